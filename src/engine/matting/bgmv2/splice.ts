// Wraps an official BGMv2 export in CleanPlate's 8-bit interface by splicing nodes into its own
// graph, so one onnxruntime session runs everything: uint8 frame and plate in, uint8 alpha, RGBA
// foreground and error out.
//
// Why splice rather than run three sessions (pre, model, post): onnxruntime cannot join two model
// files, and separate sessions would move full-resolution float tensors through JS twice per
// frame; one graph keeps the conversion on onnxruntime's threads (or the GPU) and lets it fuse
// and reuse buffers. The official graph is left as it is: its `src`/`bgr` inputs become values
// produced by the pre-processing nodes, and its `pha`/`fgr`/`err_sm` outputs feed the
// post-processing nodes. Its opset is kept (raising it would change the meaning of its own
// nodes), so the added nodes use only operators whose form is the same from opset 11 on.
import onnxProto from 'onnx-proto';
import { GraphBuilder } from '../onnx/graph-builder.js';
import { namesIn, prefixNames } from '../onnx/splice.js';
import { checkBgmv2Contract, ModelContractError, type Bgmv2Contract, type ModelProto } from './contract.js';

const { onnx } = onnxProto;

/** Names of the spliced model's inputs and outputs. */
export const IO = {
  /** uint8 (1, H, W, C): the frame, RGB or RGBA (alpha ignored). */
  frame: 'cleanplate_frame_u8',
  /** uint8 (1, H, W, C): the clean plate, same H and W. */
  plate: 'cleanplate_plate_u8',
  /** int64 (8): Pad amounts for NHWC, [0, 0, 0, 0, 0, bottom, right, 0]. */
  pads: 'cleanplate_pads',
  /** uint8 (1, 1, H, W). */
  alpha: 'cleanplate_alpha_u8',
  /** uint8 (1, H, W, 4): straight-alpha RGBA. */
  foreground: 'cleanplate_foreground_u8',
  /** uint8 (1, 1, h, w): the coarse error map cropped to the frame's share; only when the export has err_sm. */
  error: 'cleanplate_error_u8',
} as const;

const PREFIX = 'cleanplate/';

/** Names the wrapper shares with the official graph or the caller; all its other names get PREFIX. */
const SHARED = new Set<string>([...Object.values(IO), 'src', 'bgr', 'pha', 'fgr', 'err_sm']);

const ONE_255 = 1 / 255;

/** uint8 NHWC frame -> padded float NCHW 0..1, as the export wants. */
function buildPre(): ModelProto {
  const g = new GraphBuilder('cleanplate_pre');
  const pads = g.input(IO.pads, 'int64', [8]);
  const toInput = (name: string, value: string) => {
    const rgb = g.op('Slice', [value, g.int64([0]), g.int64([3]), g.int64([3])]); // drop alpha of RGBA input
    const padded = g.op('Pad', [rgb, pads], { mode: 'edge' }); // replicate edges: no false edges at the border
    const unit = g.unitFromUint8(padded); // x / 255, bit for bit as the authors' to_tensor
    g.output(name, g.op('Transpose', [unit], { perm: [0, 3, 1, 2] }), 'float', [1, 3, 'padded_height', 'padded_width']);
  };
  toInput('src', g.input(IO.frame, 'uint8', [1, 'height', 'width', 'frame_channels']));
  toInput('bgr', g.input(IO.plate, 'uint8', [1, 'height', 'width', 'plate_channels']));
  return onnx.ModelProto.decode(g.toBytes());
}

/** pha/fgr (and err_sm) float NCHW -> cropped back to the frame, uint8. */
function buildPost(hasError: boolean): ModelProto {
  const g = new GraphBuilder('cleanplate_post');
  const frame = g.input(IO.frame, 'uint8', [1, 'height', 'width', 'frame_channels']);
  const src = g.input('src', 'float', [1, 3, 'padded_height', 'padded_width']);
  const pha = g.input('pha', 'float', [1, 1, 'padded_height', 'padded_width']);
  const fgr = g.input('fgr', 'float', [1, 3, 'padded_height', 'padded_width']);
  const scale = g.float(ONE_255);
  const zero = g.uint8(0);
  const hw = g.op('Slice', [g.op('Shape', [frame]), g.int64([1]), g.int64([3]), g.int64([0])]);
  const cropNchw = (x: string, ends: string) => g.op('Slice', [x, g.int64([0, 0]), ends, g.int64([2, 3])]);
  // QuantizeLinear with scale 1/255 and a uint8 zero point rounds and saturates in one op.
  const toU8 = (x: string) => g.op('QuantizeLinear', [x, scale, zero]);

  const alpha = cropNchw(pha, hw);
  g.output(IO.alpha, toU8(alpha), 'uint8', [1, 1, 'height', 'width']);
  const rgba = g.op('Transpose', [g.op('Concat', [cropNchw(fgr, hw), alpha], { axis: 1 })], { perm: [0, 2, 3, 1] });
  g.output(IO.foreground, toU8(rgba), 'uint8', [1, 'height', 'width', 4]);

  if (hasError) {
    const err = g.input('err_sm', 'float', [1, 1, 'coarse_height', 'coarse_width']);
    // The coarse map covers the padded frame: keep the frame's share, rounded up.
    const padded = g.op('Slice', [g.op('Shape', [src]), g.int64([2]), g.int64([4]), g.int64([0])]);
    const coarse = g.op('Slice', [g.op('Shape', [err]), g.int64([2]), g.int64([4]), g.int64([0])]);
    const ends = g.op('Div', [g.op('Sub', [g.op('Add', [g.op('Mul', [coarse, hw]), padded]), g.int64([1])]), padded]);
    g.output(IO.error, toU8(cropNchw(err, ends)), 'uint8', [1, 1, 'error_height', 'error_width']);
  }
  return onnx.ModelProto.decode(g.toBytes());
}

export interface SplicedModel {
  readonly bytes: Uint8Array;
  readonly contract: Bgmv2Contract;
}

/**
 * Checks an official export against the contract and returns one model that takes and gives
 * 8-bit images (see IO). Throws ModelContractError for a file that does not keep the contract.
 */
export function spliceBgmv2(model: ModelProto, label: string): SplicedModel {
  const contract = checkBgmv2Contract(model, label);
  const graph = model.graph!;
  const taken = namesIn(graph);
  for (const name of taken) {
    if (Object.values(IO).includes(name as (typeof IO)[keyof typeof IO]) || name.startsWith(PREFIX)) {
      throw new ModelContractError(`${label}: its graph already uses the name "${name}", which CleanPlate's wrapper needs`);
    }
  }
  const pre = prefixNames(buildPre().graph!, PREFIX, 'pre', SHARED);
  const post = prefixNames(buildPost(contract.hasError).graph!, PREFIX, 'post', SHARED);
  const weights = new Set((graph.initializer ?? []).map((t) => t.name));

  graph.input = [
    ...(pre.input ?? []),
    // Initializers an older exporter listed as inputs stay; src and bgr are now made inside.
    ...(graph.input ?? []).filter((i) => weights.has(i.name ?? '')),
  ];
  graph.output = post.output ?? [];
  // Topological order: pre-processing, the export's own nodes, post-processing.
  graph.node = [...(pre.node ?? []), ...(graph.node ?? []), ...(post.node ?? [])];
  graph.initializer = [...(graph.initializer ?? []), ...(pre.initializer ?? []), ...(post.initializer ?? [])];
  model.producerName = `${model.producerName || 'unknown'} + cleanplate`;
  return { bytes: onnx.ModelProto.encode(model).finish(), contract };
}
