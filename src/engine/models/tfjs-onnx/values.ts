// What the converter passes between op mappers: converted TF values and the dtype mapping.
import { TfjsFormatError, type TfDtype, type TfTensor } from './model-json.js';

/** A converted TF value: an ONNX value name, or a constant materialised on first use. */
export interface Val {
  readonly dtype: TfDtype;
  /** Set for constants: mappers read them (axes, filters) instead of emitting nodes. */
  readonly tensor?: TfTensor;
  name?: string;
}

export function onnxType(dtype: TfDtype): 'float' | 'int32' | 'bool' {
  return dtype === 'float32' ? 'float' : dtype;
}

export function tfType(type: string | undefined, where: string): TfDtype {
  switch (type) {
    case 'DT_FLOAT':
      return 'float32';
    case 'DT_INT32':
      return 'int32';
    case 'DT_BOOL':
      return 'bool';
    default:
      throw new TfjsFormatError(`${where}: type ${String(type)} is not supported by the converter`);
  }
}
