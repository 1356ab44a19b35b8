// The forward and backward pass of one training step as a single ONNX graph, so that a step costs one
// onnxruntime call (about 10-20 us of overhead each) whatever the depth, and every product runs on
// onnxruntime's MLAS kernels. The graph is the loop step's arithmetic in row-major layout ([m, units]):
//   forward   Z = A W (+ b);  BN with the batch mean and the biased batch variance;  activation
//   loss      from the logits, its gradient dZ of the MEAN loss (scale = 1/m)
//   backward  dW = A^T dZ  (Gemm transA),  db = sum_i dZ,  dA = dZ W^T  (Gemm transB);
//             BN's closed form (Ioffe & Szegedy 2015, section 3), collected:
//             dh = gamma invStd (dy - mean_i dy - hhat mean_i(dy hhat)),  dgamma = sum_i dy hhat,  dbeta = sum_i dy
// Inputs: x [m, inputDim], t [m, outputDim] (one-hot classes for multiclass, the labels otherwise),
// scale [] = 1/m, and p<q> for trainable variable q (net.trainable order). Outputs: g<q>, the gradient of
// kernel q, and `vectors`, everything else in one array (StepGraph.vectors says where): the loss, the
// correct count (classification), the vectors' gradients, and each BN layer's batch mean and variance
// (the moving averages move outside the graph, with the loop step's formula). One output for all of those
// because each output costs about as much as a small node (onnxruntime-node makes a JS object for it).
// The optimizer runs outside the graph too (optimizer.ts), so that every engine takes the same update.
import type { ModelSpec } from '../../schemas/model-spec.js';
import {
  ATTR_FLOAT,
  ATTR_INT,
  ModelProto,
  floatTensor,
  int64Tensor,
  valueInfo,
  type Initializer,
  type Node,
} from '../../inference/onnx/onnx-schema.js';
import type { DenseLayout } from './layout.js';

/** Gemm-13 (transA/transB, C optional), ReduceSum-13 (axes as input), LogSoftmax-13. */
const OPSET = 15;
const IR_VERSION = 8;
const CAST_TO_FLOAT = { name: 'to', type: ATTR_INT, i: 1 };

export const paramName = (q: number) => `p${q}`;
/** the output of kernel q's gradient */
export const gradName = (q: number) => `g${q}`;
export const VECTORS = 'vectors';

export interface StepGraph {
  model: Uint8Array;
  /** offsets in the `vectors` output */
  vectors: {
    length: number;
    loss: number;
    /** classification only */
    correct?: number;
    /** by trainable index, for the 1-D variables (biases, gamma, beta) */
    grads: Map<number, number>;
    /** per BN layer, in order */
    mean: number[];
    variance: number[];
  };
}

/**
 * The step's graph for `spec` with dense layers `layers` (denseLayout), for batches of m rows. A fixed
 * batch size lets onnxruntime plan the graph's memory once: with a symbolic one its elementwise nodes
 * ran about twice as long.
 */
export function stepGraph(spec: ModelSpec, layers: readonly DenseLayout[], trainableShapes: readonly number[][], m: number): StepGraph {
  const { activation, batchNorm, task } = spec;
  const bnBefore = batchNorm.placement === 'before-activation';
  const nodes: Node[] = [];
  const inits: Initializer[] = [];
  const outputs: ReturnType<typeof valueInfo>[] = [];
  let serial = 0;
  /** Adds a node; returns its output (named `out` when given, which makes it a graph output's source). */
  const op = (opType: string, input: string[], attribute?: Node['attribute'], out = `t${serial++}`): string => {
    nodes.push({ opType, name: out, input, output: [out], ...(attribute && { attribute }) });
    return out;
  };
  const constants = new Map<number, string>();
  /** A float scalar initializer, added on first use (onnxruntime warns of unused ones). */
  const constant = (value: number): string => {
    let c = constants.get(value);
    if (c === undefined) {
      constants.set(value, (c = `c${constants.size}`));
      inits.push(floatTensor(c, [], [value]));
    }
    return c;
  };
  const output = (name: string, dims: number[]) => outputs.push(valueInfo(name, dims));
  // Sums over the batch's rows as products with a row of ones ([1, m] x [m, units] = [1, units]): onnxruntime's
  // ReduceSum and ReduceMean over the first axis of [m, units] ran 5-10x slower than the product.
  inits.push(floatTensor('ones', [1, m], new Float32Array(m).fill(1)));
  const int = (name: string, v: number) => ({ name, type: ATTR_INT, i: v });
  const alpha = (v: number) => ({ name: 'alpha', type: ATTR_FLOAT, f: v });
  const sumRows = (x: string, out?: string) => op('Gemm', ['ones', x], undefined, out);
  const meanRows = (x: string, out?: string) => op('Gemm', ['ones', x], [alpha(1 / m)], out);
  const sumAll = (x: string, out?: string) => op('ReduceSum', [x], [int('keepdims', 0)], out);

  const act = (z: string): string => {
    if (activation === 'relu') return op('Relu', [z]);
    if (activation === 'sigmoid') return op('Sigmoid', [z]);
    if (activation === 'tanh') return op('Tanh', [z]);
    return z;
  };
  /** dl/dx from dl/dy and y = act(x), through the output as the loop step does (relu: no gradient at 0). */
  const actBackward = (dy: string, y: string): string => {
    if (activation === 'relu') return op('Where', [op('Greater', [y, constant(0)]), dy, constant(0)]);
    if (activation === 'sigmoid') return op('Mul', [dy, op('Mul', [y, op('Sub', [constant(1), y])])]);
    if (activation === 'tanh') return op('Mul', [dy, op('Sub', [constant(1), op('Mul', [y, y])])]);
    return dy;
  };

  interface BnSaved {
    hhat: string;
    invStd: string;
    gamma: string;
  }
  let bnIndex = 0;
  const bnForward = (h: string, gamma: string, beta: string): { r: string; saved: BnSaved } => {
    const i = bnIndex++;
    const mean = meanRows(h, `mean${i}`);
    const centred = op('Sub', [h, mean]);
    const variance = meanRows(op('Mul', [centred, centred]), `var${i}`);
    const invStd = op('Reciprocal', [op('Sqrt', [op('Add', [variance, constant(batchNorm.epsilon)])])]);
    const hhat = op('Mul', [centred, invStd]);
    return { r: op('Add', [op('Mul', [hhat, gamma]), beta]), saved: { hhat, invStd, gamma } };
  };
  const bnBackward = (dy: string, s: BnSaved, gammaGrad: string, betaGrad: string): string => {
    const dgamma = sumRows(op('Mul', [dy, s.hhat]), gammaGrad);
    const dbeta = sumRows(dy, betaGrad);
    const centredDy = op('Sub', [dy, op('Mul', [dbeta, 'scale'])]);
    const projected = op('Mul', [s.hhat, op('Mul', [dgamma, 'scale'])]);
    return op('Mul', [op('Sub', [centredDy, projected]), op('Mul', [s.gamma, s.invStd])]);
  };

  // forward; inputsOf[l] is the input of dense layer l
  const inputsOf: string[] = ['x'];
  const saved: { bn?: BnSaved; act?: string }[] = [];
  const L = layers.length - 1;
  layers.slice(0, L).forEach((l) => {
    const gemmIn = [inputsOf[inputsOf.length - 1], paramName(l.kernel), ...(l.bias !== undefined ? [paramName(l.bias)] : [])];
    const z = op('Gemm', gemmIn);
    if (!l.bn) {
      saved.push({});
      inputsOf.push(act(z));
      return;
    }
    const gamma = paramName(l.bn.gamma);
    const beta = paramName(l.bn.beta);
    if (bnBefore) {
      const { r, saved: s } = bnForward(z, gamma, beta);
      saved.push({ bn: s });
      inputsOf.push(act(r));
    } else {
      const a = act(z);
      const { r, saved: s } = bnForward(a, gamma, beta);
      saved.push({ bn: s, act: a });
      inputsOf.push(r);
    }
  });
  const out = layers[L];
  const z = op('Gemm', [inputsOf[L], paramName(out.kernel), paramName(out.bias!)]);

  // loss (a sum times scale = the mean over rows; outputDim is 1 unless multiclass) and dl/dz
  let dz: string;
  if (task === 'multiclass') {
    const logp = op('LogSoftmax', [z], [int('axis', -1)]);
    op('Neg', [op('Mul', [sumAll(op('Mul', ['t', logp])), 'scale'])], undefined, 'loss');
    dz = op('Mul', [op('Sub', [op('Exp', [logp]), 't']), 'scale']);
    const argMax = (x: string) => op('ArgMax', [x], [int('axis', 1), int('keepdims', 0)]);
    sumAll(op('Cast', [op('Equal', [argMax(z), argMax('t')])], [CAST_TO_FLOAT]), 'correct');
  } else if (task === 'binary') {
    // max(z, 0) - z t + log(1 + exp(-|z|)), d/dz = sigmoid(z) - t
    const perRow = op('Add', [op('Sub', [op('Relu', [z]), op('Mul', [z, 't'])]), op('Softplus', [op('Neg', [op('Abs', [z])])])]);
    op('Mul', [sumAll(perRow), 'scale'], undefined, 'loss');
    dz = op('Mul', [op('Sub', [op('Sigmoid', [z]), 't']), 'scale']);
    const predicted = op('Cast', [op('Greater', [z, constant(0)])], [CAST_TO_FLOAT]);
    sumAll(op('Cast', [op('Equal', [predicted, 't'])], [CAST_TO_FLOAT]), 'correct');
  } else {
    const diff = op('Sub', [z, 't']);
    op('Mul', [sumAll(op('Mul', [diff, diff])), 'scale'], undefined, 'loss');
    dz = op('Mul', [diff, op('Add', ['scale', 'scale'])]);
  }

  // backward
  for (let l = L; l >= 0; l--) {
    const layer = layers[l];
    op('Gemm', [inputsOf[l], dz], [int('transA', 1)], gradName(layer.kernel));
    output(gradName(layer.kernel), trainableShapes[layer.kernel]);
    if (layer.bias !== undefined) sumRows(dz, gradName(layer.bias));
    if (l === 0) break; // the input layer needs no dx
    const da = op('Gemm', [dz, paramName(layer.kernel)], [int('transB', 1)]);
    const below = layers[l - 1];
    const s = saved[l - 1];
    if (!below.bn || !s.bn) dz = actBackward(da, inputsOf[l]);
    else if (bnBefore) dz = bnBackward(actBackward(da, inputsOf[l]), s.bn, gradName(below.bn.gamma), gradName(below.bn.beta));
    else dz = actBackward(bnBackward(da, s.bn, gradName(below.bn.gamma), gradName(below.bn.beta)), s.act!);
  }

  // everything else, as [1, n] pieces, in one output
  inits.push(int64Tensor('shape11', [2], [1, 1]));
  const pieces: string[] = [];
  let length = 0;
  /** appends a [1, size] value; returns its offset */
  const pack = (name: string, size: number): number => {
    pieces.push(name);
    return (length += size) - size;
  };
  const scalar = (name: string) => pack(op('Reshape', [name, 'shape11']), 1);
  const loss = scalar('loss');
  const correct = task === 'regression' ? undefined : scalar('correct');
  const grads = new Map<number, number>();
  trainableShapes.forEach((shape, q) => {
    if (shape.length === 1) grads.set(q, pack(gradName(q), shape[0]));
  });
  const bnUnits = layers.filter((l) => l.bn).map((l) => l.units);
  const mean = bnUnits.map((u, i) => pack(`mean${i}`, u));
  const variance = bnUnits.map((u, i) => pack(`var${i}`, u));
  op('Concat', pieces, [int('axis', 1)], VECTORS);
  output(VECTORS, [1, length]);

  const model = ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'bn-service',
    docString: 'one training step: forward with batch statistics, loss, backward (gradients and BN batch statistics)',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: 'train_step',
      node: nodes,
      initializer: inits,
      input: [
        valueInfo('x', [m, spec.inputDim]),
        valueInfo('t', [m, spec.outputDim]),
        valueInfo('scale', []),
        ...trainableShapes.map((shape, q) => valueInfo(paramName(q), shape)),
      ],
      output: outputs,
    },
  });
  return { model: ModelProto.encode(model).finish(), vectors: { length, loss, correct, grads, mean, variance } };
}
