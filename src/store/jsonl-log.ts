// An append-only per-model log of one JSON record per epoch and per line (the epoch log, the BN
// statistics log), appended and fsynced by the training child and never pruned. A crash can leave a
// torn last line, lines of epochs the next attempt trains again, or miss the last saved epoch's line;
// reconcileLog() at the start of every attempt repairs all three.
import fs from 'node:fs/promises';
import { appendDurableSync, isErrno, writeFileAtomic } from '../util/atomic-file.js';
import type { LogRead } from './store.js';

function lineOf(record: { epoch: number }): string {
  const text = JSON.stringify(record);
  if (text.includes('\n')) throw new Error('internal: a log record must be one line');
  return `${text}\n`;
}

export function appendLogSync(file: string, record: { epoch: number }): void {
  appendDurableSync(file, lineOf(record));
}

/** Complete lines from `fromByte` on; a line that does not parse (a torn write) ends the read there. */
export async function readLog<T>(file: string, fromByte = 0): Promise<LogRead<T>> {
  let bytes: Buffer;
  try {
    const handle = await fs.open(file, 'r');
    try {
      const { size } = await handle.stat();
      if (size < fromByte) return readLog(file, 0); // rewritten by a reconcile: start over
      bytes = Buffer.alloc(size - fromByte);
      if (bytes.length > 0) await handle.read(bytes, 0, bytes.length, fromByte);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return { records: [], nextByte: 0 };
    throw err;
  }
  const records: T[] = [];
  let at = 0;
  for (;;) {
    const nl = bytes.indexOf(0x0a, at);
    if (nl < 0) break;
    let record: T;
    try {
      record = JSON.parse(bytes.toString('utf8', at, nl)) as T;
    } catch {
      break;
    }
    records.push(record);
    at = nl + 1;
  }
  return { records, nextByte: fromByte + at };
}

export interface ReconcileOptions<T> {
  /** the log's first epoch: 1 for the epoch log, 0 for a log that records the initialised network */
  firstEpoch: number;
  lastSaved: number;
  /** lastSaved's record, added when its line is missing (a crash between the save and the append) */
  last?: T;
}

/**
 * Epochs firstEpoch..lastSaved exactly once, in order: the first line of each epoch wins (an epoch is
 * trained the same way every time), later epochs and repeats go, and `last` fills a missing lastSaved
 * line. The file is rewritten (atomically) only if it changes.
 */
export async function reconcileLog<T extends { epoch: number }>(file: string, { firstEpoch, lastSaved, last }: ReconcileOptions<T>): Promise<T[]> {
  const { records, nextByte } = await readLog<T>(file);
  let size = 0;
  try {
    size = (await fs.stat(file)).size;
  } catch (err) {
    if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw err;
  }
  const byEpoch = new Map<number, T>();
  let inOrder = true;
  for (const r of records) {
    if (r.epoch > lastSaved || r.epoch < firstEpoch || byEpoch.has(r.epoch)) {
      inOrder = false;
      continue;
    }
    if (r.epoch !== byEpoch.size + firstEpoch) inOrder = false;
    byEpoch.set(r.epoch, r);
  }
  if (!byEpoch.has(lastSaved) && lastSaved >= firstEpoch && last?.epoch === lastSaved) {
    byEpoch.set(lastSaved, last);
    inOrder = false;
  }
  const kept = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  if (inOrder && nextByte === size) return kept;
  if (kept.length === 0 && size === 0) return kept;
  await writeFileAtomic(file, kept.map(lineOf).join(''));
  return kept;
}
