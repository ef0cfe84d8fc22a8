// The engine's image buffers and the sizes it accepts. Below media (decode, image files), align
// and matting, which all pass these around: none of them owns the shape.

/** An interleaved 8-bit image: RGB (channels 3) or RGBA (channels 4), row-major, no padding. */
export interface Frame {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: 3 | 4;
}

/** A single-channel 8-bit image (alpha, error map). */
export interface Plane {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** Largest frame side the engine accepts (8K); beyond that memory use is absurd for this tool. */
export const MAX_FRAME_SIDE = 8192;
/** Smallest side: the models' low-resolution passes need a few pixels to work with. */
export const MIN_FRAME_SIDE = 16;
