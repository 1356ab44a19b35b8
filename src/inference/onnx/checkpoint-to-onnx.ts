// A checkpoint as an ONNX model: layer by layer as the document writes it (Gemm, BatchNormalization in
// inference mode with the moving statistics, activations), so that any ONNX runtime computes what our
// reference engine computes and the BN layers stay visible in tools such as Netron. Runtimes fold each
// BatchNormalization into the Gemm before it when they optimise the graph.
import type { CheckpointDocument, CheckpointLayer } from '../../schemas/checkpoint.js';
import { validateCheckpoint } from '../validate-checkpoint.js';
import { ATTR_FLOAT, ATTR_INT, FLOAT, ModelProto } from './onnx-schema.js';

/** BatchNormalization-15, Softmax-13 (axis -1), Gemm-13 (C optional). */
export const ONNX_OPSET = 15;
const IR_VERSION = 8;
export const ONNX_INPUT = 'x';
export const ONNX_OUTPUT = 'y';

const ACTIVATION_OPS = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', softmax: 'Softmax' } as const;

interface Node {
  opType: string;
  name: string;
  input: string[];
  output: string[];
  attribute?: { name: string; type: number; f?: number; i?: number }[];
}

interface Initializer {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

/** float32, little-endian as ONNX's raw_data requires (typed arrays are little-endian on every supported CPU). */
function tensor(name: string, dims: number[], values: ArrayLike<number>): Initializer {
  const f32 = Float32Array.from(values as ArrayLike<number>);
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(f32.buffer) };
}

function flatKernel(kernel: number[][]): Float32Array {
  const n = kernel.length;
  const m = kernel[0].length;
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) out.set(kernel[i], i * m);
  return out;
}

function layerNodes(layer: CheckpointLayer, input: string, inits: Initializer[]): Node[] {
  const out = layer.name;
  if (layer.type === 'dense') {
    const n = layer.kernel.length;
    const m = layer.kernel[0].length;
    inits.push(tensor(`${out}.kernel`, [n, m], flatKernel(layer.kernel)));
    const inputs = [input, `${out}.kernel`];
    if (layer.bias) {
      inits.push(tensor(`${out}.bias`, [m], layer.bias));
      inputs.push(`${out}.bias`);
    }
    return [{ opType: 'Gemm', name: out, input: inputs, output: [out] }];
  }
  if (layer.type === 'batchNorm') {
    const c = layer.gamma.length;
    for (const [field, values] of [['gamma', layer.gamma], ['beta', layer.beta], ['moving_mean', layer.movingMean], ['moving_variance', layer.movingVariance]] as const) {
      inits.push(tensor(`${out}.${field}`, [c], values));
    }
    return [
      {
        opType: 'BatchNormalization',
        name: out,
        input: [input, `${out}.gamma`, `${out}.beta`, `${out}.moving_mean`, `${out}.moving_variance`],
        output: [out],
        attribute: [{ name: 'epsilon', type: ATTR_FLOAT, f: layer.epsilon }],
      },
    ];
  }
  if (layer.fn === 'linear') return [];
  const attribute = layer.fn === 'softmax' ? [{ name: 'axis', type: ATTR_INT, i: -1 }] : undefined;
  return [{ opType: ACTIVATION_OPS[layer.fn], name: out, input: [input], output: [out], ...(attribute && { attribute }) }];
}

function valueInfo(name: string, width: number) {
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: width }] } } } };
}

/** ONNX bytes of the checkpoint: input x float32 [N, inputDim], output y float32 [N, outputDim]. */
export function checkpointToOnnx(doc: CheckpointDocument): Uint8Array {
  const { inputDim, outputDim } = validateCheckpoint(doc);
  const inits: Initializer[] = [];
  const nodes: Node[] = [];
  let cur = ONNX_INPUT;
  for (const layer of doc.layers) {
    const added = layerNodes(layer, cur, inits);
    nodes.push(...added);
    if (added.length > 0) cur = added[added.length - 1].output[0];
  }
  // The graph's output is always named y, whatever the last layer is called.
  nodes.push({ opType: 'Identity', name: ONNX_OUTPUT, input: [cur], output: [ONNX_OUTPUT] });

  const model = ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'bn-service',
    docString: `${doc.modelId} after epoch ${doc.epoch}; BatchNormalization nodes use the moving mean and variance (inference mode)`,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    metadataProps: [
      { key: 'modelId', value: doc.modelId },
      { key: 'epoch', value: String(doc.epoch) },
      { key: 'task', value: doc.spec.task },
    ],
    graph: {
      name: doc.modelId,
      node: nodes,
      initializer: inits,
      input: [valueInfo(ONNX_INPUT, inputDim)],
      output: [valueInfo(ONNX_OUTPUT, outputDim)],
    },
  });
  return ModelProto.encode(model).finish();
}
