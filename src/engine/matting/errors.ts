// Errors the matting layer raises for bad input; the http layer maps them to 4xx responses.
export class MattingInputError extends Error {
  constructor(
    readonly code: 'plate_required' | 'plate_size_mismatch' | 'bad_frame' | 'frame_too_large' | 'unknown_model' | 'model_unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'MattingInputError';
  }
}
