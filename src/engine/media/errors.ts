// Errors the media layer raises for bad input (missing or unreadable media, impossible ranges,
// unwritable output folders); the http layer maps them to 4xx, the CLI prints the message.
export type MediaErrorCode =
  | 'media_not_found' // no file at the path
  | 'not_a_video' // a file ffprobe cannot read as media, or a still image where a clip is needed
  | 'no_video_stream' // audio-only media
  | 'media_unreadable' // corrupt or truncated: decoding failed or ended early
  | 'variable_frame_rate' // VFR sources are refused (frame indices would not match the editor's)
  | 'bad_range' // in/out malformed or empty
  | 'range_outside_media' // in/out beyond the media's frames
  | 'unsupported_frame_size' // a size an output codec cannot take (ProRes: odd widths)
  | 'output_dir_unwritable'; // the output folder cannot be created or written

export class MediaInputError extends Error {
  constructor(
    readonly code: MediaErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MediaInputError';
  }
}

/** A media tool (ffmpeg/ffprobe) exited with an error that is not the input's fault. */
export class ToolFailedError extends Error {
  constructor(
    readonly tool: string,
    readonly exit: string,
    readonly stderrTail: string,
  ) {
    super(`${tool} failed (${exit}): ${stderrTail.trim().split('\n').slice(-3).join(' | ') || 'no message'}`);
    this.name = 'ToolFailedError';
  }
}
