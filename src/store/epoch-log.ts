// The per-model epoch log, models/<id>/epochs.jsonl: one line of EpochMetrics per trained epoch (1, 2,
// ...), appended and fsynced by the training child after the epoch's checkpoint is saved, and never
// pruned, so a job's history is stored once, whatever retention does to the weights. A JSON-lines log
// (jsonl-log.ts): reconcileEpochLog() at the start of every attempt repairs what a crash left, the
// missing last line from the last checkpoint's metrics.
import type { EpochMetrics } from '../schemas/checkpoint.js';
import { appendLogSync, readLog, reconcileLog } from './jsonl-log.js';
import type { EpochLogRead } from './store.js';

export function appendEpochSync(file: string, metrics: EpochMetrics): void {
  appendLogSync(file, metrics);
}

export function readEpochLog(file: string, fromByte = 0): Promise<EpochLogRead> {
  return readLog<EpochMetrics>(file, fromByte);
}

/** Epochs 1..lastSaved exactly once, in order (reconcileLog); lastSaved's line comes from its checkpoint when missing. */
export function reconcileEpochLog(file: string, lastSaved: number, lastMetrics?: EpochMetrics): Promise<EpochMetrics[]> {
  return reconcileLog(file, { firstEpoch: 1, lastSaved, last: lastMetrics });
}
