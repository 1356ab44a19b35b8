// The events of an experiment's stream, from its variants' jobs:
//   status     first: the whole ExperimentStatus, with every variant's history
//   epoch      per completed epoch of any variant: {variant, jobId, modelId, metrics} (EpochMetrics)
//   variant    when a variant's status changes: its ExperimentVariantStatus without history
//   completed | failed | cancelled   last, once every variant has ended: the whole ExperimentStatus
// Every change of a variant's job (the queue's events) makes the experiment be read again and compared
// with what was sent; a slow poll covers events pub/sub may drop.
import type { ExperimentRecord, ExperimentStatus } from '../schemas/experiment.js';
import { experimentStatus, type StatusDeps } from './status.js';

export interface ExperimentEvent {
  id: string;
  event: string;
  data: unknown;
}

const POLL_MS = 2000;
const FINAL = new Set(['completed', 'failed', 'cancelled']);

export async function* experimentEvents(
  deps: StatusDeps,
  record: ExperimentRecord,
  closed: Promise<void>,
): AsyncGenerator<ExperimentEvent> {
  let wake: (() => void) | undefined;
  let dirty = false;
  const poke = () => {
    dirty = true;
    wake?.();
  };
  // Subscribed before the first read, so that no change falls between the two.
  const unsubscribes = await Promise.all(record.variants.map((v) => deps.queue.subscribe(v.jobId, poke)));
  let open = true;
  void closed.then(() => {
    open = false;
    wake?.();
  });
  let id = 0;
  try {
    let sent: ExperimentStatus = await experimentStatus(deps, record);
    yield { id: String(++id), event: 'status', data: sent };
    while (open && !FINAL.has(sent.status)) {
      if (!dirty) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, POLL_MS).unref();
        });
        wake = undefined;
      }
      dirty = false;
      if (!open) return;
      const now = await experimentStatus(deps, record);
      for (const [i, v] of now.variants.entries()) {
        const before = sent.variants[i];
        const known = before.history?.length ?? 0;
        for (const metrics of (v.history ?? []).slice(known)) {
          yield { id: String(++id), event: 'epoch', data: { variant: v.name, jobId: v.jobId, modelId: v.modelId, metrics } };
        }
        if (v.status !== before.status) {
          const { history: _history, ...withoutHistory } = v;
          yield { id: String(++id), event: 'variant', data: withoutHistory };
        }
      }
      sent = now;
    }
    if (FINAL.has(sent.status)) yield { id: String(++id), event: sent.status, data: sent };
  } finally {
    for (const unsubscribe of unsubscribes) unsubscribe();
  }
}
