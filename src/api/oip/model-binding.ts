// A model of this service as the Open Inference Protocol sees it: one input tensor x [-1, inputDim] and one
// output tensor y [-1, outputDim], both FP32 (the names of the model.onnx graph), versions = checkpoint
// epochs. Binds decoded request tensors to a loaded model and says how each output is to be sent.
import { ONNX_INPUT, ONNX_OUTPUT } from '../../inference/onnx/checkpoint-to-onnx.js';
import { ApiError } from '../plugins/app/errors.js';
import { checkValues } from '../prediction-checks.js';
import { MODEL_DATATYPE } from './datatypes.js';
import type { InputTensor, OutputEncoding } from './tensors.js';
import type { InferRequest } from '../routes/v2/schemas.js';

export const INPUT_NAME = ONNX_INPUT;
export const OUTPUT_NAME = ONNX_OUTPUT;
export const PLATFORM = 'bn-service_checkpoint';

export interface ModelShape {
  inputDim: number;
  outputDim: number;
}

export function modelMetadata(modelId: string, versions: readonly number[], shape: ModelShape) {
  return {
    name: modelId,
    versions: versions.map(String),
    platform: PLATFORM,
    inputs: [{ name: INPUT_NAME, datatype: MODEL_DATATYPE, shape: [-1, shape.inputDim] }],
    outputs: [{ name: OUTPUT_NAME, datatype: MODEL_DATATYPE, shape: [-1, shape.outputDim] }],
  };
}

const bad = (message: string, field: string) => new ApiError(400, message, field);

/**
 * The rows of the request's one input, x [N, inputDim] with 1 <= N <= maxRows, every value finite and of
 * bounded magnitude (the v1 route's checks). 400 naming what is wrong otherwise.
 */
export function inputRows(tensors: readonly InputTensor[], modelId: string, inputDim: number, maxRows: number): number[][] {
  const expected = `[-1, ${inputDim}]`;
  for (const t of tensors) {
    if (t.name !== INPUT_NAME) {
      throw bad(`unexpected inference input '${t.name}' for model '${modelId}': its only input is '${INPUT_NAME}' ${expected}`, 'inputs');
    }
  }
  if (tensors.length !== 1) throw bad(`input '${INPUT_NAME}' is given ${tensors.length} times; give it once`, 'inputs');
  const [x] = tensors;
  const [rows, width] = x.shape;
  if (x.shape.length !== 2 || width !== inputDim) {
    throw bad(`unexpected shape for input '${INPUT_NAME}' of model '${modelId}': expected ${expected}, got [${x.shape.join(', ')}]`, 'inputs[0].shape');
  }
  if (rows < 1) throw bad(`input '${INPUT_NAME}' has no rows; send at least one`, 'inputs[0].shape');
  if (rows > maxRows) {
    throw bad(`input '${INPUT_NAME}' has ${rows} rows, more than MAX_PREDICT_INSTANCES=${maxRows}; split the request`, 'inputs[0].shape');
  }
  checkValues(x.values, INPUT_NAME);
  if (rows === 1) return [x.values];
  const out: number[][] = new Array(rows);
  for (let r = 0; r < rows; r++) out[r] = x.values.slice(r * width, (r + 1) * width);
  return out;
}

/**
 * How to send y: as requested in `outputs` (binary_data, classification), else binary when the request's
 * binary_data_output says so. 400 for an output the model does not have or one asked for twice.
 */
export function outputEncoding(request: InferRequest, modelId: string): OutputEncoding {
  const binaryDefault = request.parameters?.binary_data_output ?? false;
  const requested = request.outputs;
  if (requested === undefined || requested.length === 0) return { binary: binaryDefault };
  for (const o of requested) {
    if (o.name !== OUTPUT_NAME) {
      throw bad(`unexpected inference output '${o.name}' for model '${modelId}': its only output is '${OUTPUT_NAME}'`, 'outputs');
    }
  }
  if (requested.length > 1) throw bad(`output '${OUTPUT_NAME}' is requested ${requested.length} times; request it once`, 'outputs');
  const [y] = requested;
  return { binary: y.parameters?.binary_data ?? binaryDefault, classification: y.parameters?.classification };
}
