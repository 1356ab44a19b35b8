// A checkpoint as an ONNX model. Two layouts:
// - as written (the download): Gemm, BatchNormalization in inference mode with the moving statistics,
//   activations, layer by layer as the document has them, so that the BN layers stay visible in tools
//   such as Netron and any ONNX runtime computes what our reference engine computes;
// - folded (what the onnx engine runs): the folded engine's plan, each BN after a Dense folded into its
//   Gemm, any other BN a Mul and an Add. onnxruntime does not fold a BatchNormalization into a Gemm
//   itself (its optimised graph keeps both), and the folded graph answers sooner.
import type { Checkpoint, TensorLayer } from '../../checkpoint/checkpoint.js';
import { validateCheckpoint } from '../validate-checkpoint.js';
import { compileFolded } from '../compile-plan.js';
import type { ActivationFn, Step } from '../plan.js';
import { ATTR_FLOAT, ATTR_INT, ModelProto, floatTensor as tensor, valueInfo, type Initializer, type Node } from './onnx-schema.js';

/** BatchNormalization-15, Softmax-13 (axis -1), Gemm-13 (C optional). */
const ONNX_OPSET = 15;
const IR_VERSION = 8;
export const ONNX_INPUT = 'x';
export const ONNX_OUTPUT = 'y';

const ACTIVATION_OPS = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', softmax: 'Softmax' } as const;

function layerNodes(layer: TensorLayer, input: string, inits: Initializer[]): Node[] {
  const out = layer.name;
  if (layer.type === 'dense') {
    const n = layer.inputs;
    const m = layer.units;
    inits.push(tensor(`${out}.kernel`, [n, m], layer.kernel));
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
  return activationNodes(layer.fn, out, input);
}

function activationNodes(fn: ActivationFn, out: string, input: string): Node[] {
  if (fn === 'linear') return [];
  const attribute = fn === 'softmax' ? [{ name: 'axis', type: ATTR_INT, i: -1 }] : undefined;
  return [{ opType: ACTIVATION_OPS[fn], name: out, input: [input], output: [out], ...(attribute && { attribute }) }];
}

/** The folded plan's steps as nodes (a plan has no BN steps left: they became weights or affine steps). */
function stepNodes(step: Step, k: number, input: string, inits: Initializer[]): Node[] {
  const out = `${step.kind}_${k}`;
  if (step.kind === 'dense') {
    // The plan keeps kernels as [units][inputs]: Gemm reads them with transB.
    inits.push(tensor(`${out}.kernel`, [step.outDim, step.inDim], step.weights), tensor(`${out}.bias`, [step.outDim], step.bias));
    return [{ opType: 'Gemm', name: out, input: [input, `${out}.kernel`, `${out}.bias`], output: [out], attribute: [{ name: 'transB', type: ATTR_INT, i: 1 }] }];
  }
  if (step.kind === 'affine') {
    inits.push(tensor(`${out}.scale`, [step.scale.length], step.scale), tensor(`${out}.shift`, [step.shift.length], step.shift));
    return [
      { opType: 'Mul', name: `${out}.mul`, input: [input, `${out}.scale`], output: [`${out}.mul`] },
      { opType: 'Add', name: out, input: [`${out}.mul`, `${out}.shift`], output: [out] },
    ];
  }
  if (step.kind === 'activation') return activationNodes(step.fn, out, input);
  throw new Error(`a folded plan has no ${step.kind} step`);
}

/** ONNX bytes of the checkpoint: input x float32 [N, inputDim], output y float32 [N, outputDim]. */
export function checkpointToOnnx(doc: Checkpoint, options: { fold?: boolean } = {}): Uint8Array {
  const { inputDim, outputDim } = validateCheckpoint(doc);
  const inits: Initializer[] = [];
  const nodes: Node[] = [];
  let cur = ONNX_INPUT;
  const add = (added: Node[]) => {
    nodes.push(...added);
    if (added.length > 0) cur = added[added.length - 1].output[0];
  };
  if (options.fold) compileFolded(doc.layers, inputDim).steps.forEach((step, k) => add(stepNodes(step, k, cur, inits)));
  else for (const layer of doc.layers) add(layerNodes(layer, cur, inits));
  // The graph's output is always named y, whatever the last layer is called.
  nodes.push({ opType: 'Identity', name: ONNX_OUTPUT, input: [cur], output: [ONNX_OUTPUT] });

  const model = ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'bn-service',
    docString: options.fold
      ? `${doc.modelId} after epoch ${doc.epoch}; every BN folded into the Gemm before it (moving mean and variance)`
      : `${doc.modelId} after epoch ${doc.epoch}; BatchNormalization nodes use the moving mean and variance (inference mode)`,
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
      input: [valueInfo(ONNX_INPUT, ['N', inputDim])],
      output: [valueInfo(ONNX_OUTPUT, ['N', outputDim])],
    },
  });
  return ModelProto.encode(model).finish();
}
