// Built-in datasets, generated from fixed seeds so every process and platform sees identical rows.
// builtin:blobs reproduces the make_blobs problem of the MXDL Batch Normalization lecture; builtin:placement
// has the gpa/iq/placed shape of the introductory lecture (features on very different scales).
import type { DatasetData, DatasetInfo } from '../schemas/dataset.js';
import { createPrng } from '../util/prng.js';
import { computeStats } from './stats.js';

export interface BuiltinDataset {
  info: DatasetInfo;
  data: DatasetData;
}

const BUILTIN_PREFIX = 'builtin:';
/** Fixed so that the info document is byte-identical everywhere (the Batch Normalization paper's date). */
const CREATED_AT = '2015-02-11T00:00:00.000Z';

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
  return { features: rows.map((r) => r.x), labels: rows.map((r) => r.y) };
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
  return { features, labels };
}

const GENERATORS: Record<string, { name: string; featureNames: string[]; generate: () => DatasetData }> = {
  'builtin:blobs': { name: 'Two Gaussian blobs (make_blobs, std 0.25)', featureNames: ['x1', 'x2'], generate: blobs },
  'builtin:placement': { name: 'Student placement from gpa and iq', featureNames: ['gpa', 'iq'], generate: placement },
};

const cache = new Map<string, BuiltinDataset>();

export function isBuiltinId(id: string): boolean {
  return id.startsWith(BUILTIN_PREFIX);
}

export function listBuiltinIds(): string[] {
  return Object.keys(GENERATORS);
}

/** Generated once per process; callers get copies, so an in-place shuffle cannot corrupt the cache. */
export function builtinDataset(id: string): BuiltinDataset | null {
  if (!Object.hasOwn(GENERATORS, id)) return null;
  let entry = cache.get(id);
  if (!entry) {
    const spec = GENERATORS[id];
    const data = spec.generate();
    const info: DatasetInfo = {
      id,
      name: spec.name,
      rows: data.features.length,
      features: data.features[0].length,
      featureNames: spec.featureNames,
      classes: 2,
      stats: computeStats(data.features),
      createdAt: CREATED_AT,
    };
    entry = { info, data };
    cache.set(id, entry);
  }
  return {
    info: structuredClone(entry.info),
    data: { features: entry.data.features.map((row) => row.slice()), labels: entry.data.labels.slice() },
  };
}
