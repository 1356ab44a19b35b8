// The per-model epoch log, models/<id>/epochs.jsonl: one line of EpochMetrics per trained epoch, appended
// and fsynced by the training child after the epoch's checkpoint is saved, and never pruned, so a job's
// history is stored once, whatever retention does to the weights. A crash can leave a torn last line or
// miss the last saved epoch's line; reconcile() at the start of every attempt repairs both.
import fs from 'node:fs/promises';
import type { EpochMetrics } from '../schemas/checkpoint.js';
import { appendDurableSync, isErrno, writeFileAtomic } from '../util/atomic-file.js';
import type { EpochLogRead } from './store.js';

function lineOf(metrics: EpochMetrics): string {
  const text = JSON.stringify(metrics);
  if (text.includes('\n')) throw new Error('internal: an epoch record must be one line');
  return `${text}\n`;
}

export function appendEpochSync(file: string, metrics: EpochMetrics): void {
  appendDurableSync(file, lineOf(metrics));
}

/** Complete lines from `fromByte` on; a line that does not parse (a torn write) ends the read there. */
export async function readEpochLog(file: string, fromByte = 0): Promise<EpochLogRead> {
  let bytes: Buffer;
  try {
    const handle = await fs.open(file, 'r');
    try {
      const { size } = await handle.stat();
      if (size < fromByte) return readEpochLog(file, 0); // rewritten by a reconcile: start over
      bytes = Buffer.alloc(size - fromByte);
      if (bytes.length > 0) await handle.read(bytes, 0, bytes.length, fromByte);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return { records: [], nextByte: 0 };
    throw err;
  }
  const records: EpochMetrics[] = [];
  let at = 0;
  for (;;) {
    const nl = bytes.indexOf(0x0a, at);
    if (nl < 0) break;
    let record: EpochMetrics;
    try {
      record = JSON.parse(bytes.toString('utf8', at, nl)) as EpochMetrics;
    } catch {
      break;
    }
    records.push(record);
    at = nl + 1;
  }
  return { records, nextByte: fromByte + at };
}

/**
 * Epochs 1..lastSaved exactly once, in order: the first line of each epoch wins (an epoch is trained the
 * same way every time), later epochs and repeats go, and lastSaved's line comes from its checkpoint when
 * the crash came between the save and the append. The file is rewritten (atomically) only if it changes.
 */
export async function reconcileEpochLog(file: string, lastSaved: number, lastMetrics?: EpochMetrics): Promise<EpochMetrics[]> {
  const { records, nextByte } = await readEpochLog(file);
  let size = 0;
  try {
    size = (await fs.stat(file)).size;
  } catch (err) {
    if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw err;
  }
  const byEpoch = new Map<number, EpochMetrics>();
  let inOrder = true;
  for (const r of records) {
    if (r.epoch > lastSaved || byEpoch.has(r.epoch)) {
      inOrder = false;
      continue;
    }
    if (r.epoch !== byEpoch.size + 1) inOrder = false;
    byEpoch.set(r.epoch, r);
  }
  if (!byEpoch.has(lastSaved) && lastSaved > 0 && lastMetrics?.epoch === lastSaved) {
    byEpoch.set(lastSaved, lastMetrics);
    inOrder = false;
  }
  const kept = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  if (inOrder && nextByte === size) return kept;
  if (kept.length === 0 && size === 0) return kept;
  await writeFileAtomic(file, kept.map(lineOf).join(''));
  return kept;
}
