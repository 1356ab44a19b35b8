// The per-model BN statistics log, models/<id>/bn-stats.jsonl: one BnStatsEpoch per line, epoch 0 (the
// initialised network) first, appended and fsynced by the training child after the epoch's line of the
// epoch log, never pruned with checkpoints. A JSON-lines log (jsonl-log.ts), repaired like the epoch log.
import type { BnStatsEpoch } from '../schemas/bn-stats.js';
import { appendLogSync, readLog, reconcileLog } from './jsonl-log.js';

export function appendBnStatsSync(file: string, stats: BnStatsEpoch): void {
  appendLogSync(file, stats);
}

export async function readBnStatsLog(file: string): Promise<BnStatsEpoch[]> {
  return (await readLog<BnStatsEpoch>(file)).records;
}

/** Epochs 0..lastSaved exactly once, in order; a missing lastSaved line is the caller's to add (it needs the data). */
export function reconcileBnStatsLog(file: string, lastSaved: number): Promise<BnStatsEpoch[]> {
  return reconcileLog<BnStatsEpoch>(file, { firstEpoch: 0, lastSaved });
}
