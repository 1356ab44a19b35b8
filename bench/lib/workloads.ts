// The networks the suite measures and the data they train on.
import { createPrng } from '../../src/util/prng.js';
import { builtinData } from '../../src/datasets/builtin.js';
import { featureRows } from '../../src/datasets/arrays.js';
import type { Matrix } from '../../src/model/index.js';

export interface Net {
  name: string;
  inputDim: number;
  hidden: number[];
  /** 1 for binary */
  classes: number;
}

/** A network small enough to follow by hand: 2 inputs, hidden 3-2, 1 output (binary), trained on builtin:blobs. */
export const SMALL: Net = { name: 'small 2-3-2-1', inputDim: 2, hidden: [3, 2], classes: 1 };
/** The MNIST-size network of the BN comparisons (784-256-128-64-10), BN before ReLU. */
export const MNIST: Net = { name: 'MNIST-size 784-256-128-64-10', inputDim: 784, hidden: [256, 128, 64], classes: 10 };
export const WIDTHS = [64, 128, 256, 512, 1024];
/** Width w: 784-w-w/2-w/4-10, so that w = 256 is the MNIST-size network. */
export const widthNet = (w: number): Net => ({ name: `784-${w}-${w / 2}-${w / 4}-10`, inputDim: 784, hidden: [w, w / 2, w / 4], classes: 10 });

/** MNIST-shaped rows in [0, 1.5): class k lifts every k-th pixel by 0.5, so there is something to learn. */
export function mnistLike(rows: number, inputDim = 784, classes = 10, seed = 1): Matrix {
  const p = createPrng(seed);
  const features: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < rows; i++) {
    const y = i % classes;
    // Three decimals, like 8-bit pixels: keeps the JSON of 4,096 rows under the default body limit.
    features.push(Array.from({ length: inputDim }, (_, j) => Math.round(((j % classes === y ? 0.5 : 0) + p.next()) * 1000) / 1000));
    labels.push(y);
  }
  return { features, labels };
}

export async function blobsData(): Promise<Matrix> {
  const { train } = (await builtinData('builtin:blobs'))!;
  return { features: featureRows(train), labels: Array.from(train.y) };
}
