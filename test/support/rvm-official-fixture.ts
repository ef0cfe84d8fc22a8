// A stand-in for the authors' official RVM ONNX export (rvm_mobilenetv3_fp32.onnx), built with the
// project's graph builder because the weights cannot be downloaded here. It keeps the export's
// contract as the authors' exporter writes it: inputs `src` float32 (batch_size, 3, height, width)
// RGB 0..1, `r1i`..`r4i` (every dimension dynamic; zeros of shape (1, 1, 1, 1) on the first frame),
// `downsample_ratio` float32 of shape [1]; outputs `fgr`, `pha`, `r1o`..`r4o`; opset 12. Its
// outputs are known functions of the inputs, so tests can compute what to expect:
//   pha = clamp(R + mean(r1i), 0, 1)   fgr = 1 - src   rKo = mean(rKi) / 2 + mean(src)
import onnxProto from 'onnx-proto';
import { GraphBuilder } from '../../src/engine/matting/onnx/graph-builder.js';

const { onnx } = onnxProto;

export interface RvmFixtureOptions {
  /** Invalid variants: pha renamed, or a float16 export. */
  readonly phaName?: string;
  readonly float16?: boolean;
}

export function buildRvmOfficialFixture(options: RvmFixtureOptions = {}): Uint8Array {
  const g = new GraphBuilder('rvm_official_fixture');
  const src = g.input('src', 'float', ['batch_size', 3, 'height', 'width']);
  const states = [1, 2, 3, 4].map((k) => g.input(`r${k}i`, 'float', ['batch_size', 'channels', 'height', 'width']));
  const ratio = g.input('downsample_ratio', 'float', [1]);
  const mean = (x: string) => g.op('ReduceMean', [x], { keepdims: 1 });
  const red = g.op('Slice', [src, g.int64([0]), g.int64([1]), g.int64([1])]);
  const pha = g.op('Clip', [g.op('Add', [g.op('Add', [red, mean(states[0]!)]), g.op('Mul', [ratio, g.float(0)])]), g.float(0), g.float(1)]);
  g.output('fgr', g.op('Sub', [g.float(1), src]), 'float', ['batch_size', 3, 'height', 'width']);
  g.output(options.phaName ?? 'pha', pha, 'float', ['batch_size', 1, 'height', 'width']);
  states.forEach((r, i) => g.output(`r${i + 1}o`, g.op('Add', [g.op('Mul', [mean(r), g.float(0.5)]), mean(src)]), 'float', ['batch_size', 'Addr_dim_1', 'Addr_dim_2', 'Addr_dim_3']));
  // Re-stamp as the authors' exporter writes it: opset 12, IR version 7.
  const model = onnx.ModelProto.decode(g.toBytes('RVM official export contract fixture (CleanPlate tests)'));
  model.opsetImport = [onnx.OperatorSetIdProto.create({ domain: '', version: 12 })];
  model.irVersion = 7;
  model.producerName = 'pytorch';
  if (options.float16) model.graph!.input![0]!.type!.tensorType!.elemType = 10;
  return onnx.ModelProto.encode(model).finish();
}
