// builtin:fashion-mnist: Zalando's Fashion-MNIST (MIT), 28 x 28 grey images of 10 kinds of clothing, read
// from the IDX files that Debian's package dataset-fashion-mnist installs: 60,000 training and 10,000
// test images, the split of the original release.
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DatasetPart, PartName } from '../schemas/dataset.js';
import { decodeFile, type ArrayMeta, type ValueBlock } from './formats/index.js';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_INSTALL = 'apt-get install dataset-fashion-mnist';
const FILES: Record<PartName, { images: string; labels: string; rows: number }> = {
  train: { images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz', rows: 60_000 },
  test: { images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz', rows: 10_000 },
};
const PIXELS = 784;

/** Whether every file is there. */
export async function fashionMnistInstalled(dir: string): Promise<boolean> {
  for (const f of Object.values(FILES)) {
    for (const name of [f.images, f.labels]) {
      if (!(await fs.access(path.join(dir, name)).then(() => true, () => false))) return false;
    }
  }
  return true;
}

/** A whole uint8 IDX file of `rows` rows of `width` values into memory. */
async function readIdx(file: string, rows: number, width: number): Promise<Uint8Array> {
  const out = new Uint8Array(rows * width);
  let at = 0;
  await decodeFile(createReadStream(file), { filename: file, limits: { maxRows: rows, maxFeatures: width } }, {
    begin(meta: ArrayMeta) {
      if (meta.type !== 'uint8' || meta.rows !== rows || meta.width !== width) {
        throw new Error(`${file}: expected ${rows} rows of ${width} unsigned bytes, the header says ${meta.shape?.join(' x ')} ${meta.type}`);
      }
    },
    async rows(values: ValueBlock) {
      out.set(values as Uint8Array, at);
      at += values.length;
    },
  });
  return out;
}

export async function loadFashionMnistPart(dir: string, part: PartName): Promise<DatasetPart> {
  const f = FILES[part];
  const x = await readIdx(path.join(dir, f.images), f.rows, PIXELS);
  const labels = await readIdx(path.join(dir, f.labels), f.rows, 1);
  return { rows: f.rows, features: PIXELS, x, scale: 1, y: Float32Array.from(labels) };
}
