// A model's BN statistics, kept current while its job trains: the whole record once, then, on each
// `epoch` event of the job's stream (and on its final event), the epochs after the last one known.
import { useEffect, useRef, useState } from 'preact/hooks';
import { getBnStats, mergeBnEpochs, nextEpoch, type BnStatsEpoch, type BnStatsResponse } from '../api/bn-stats.js';
import { FINAL_EVENTS, followJob } from '../api/job-events.js';

export interface BnStatsState {
  response?: Omit<BnStatsResponse, 'epochs'>;
  epochs: BnStatsEpoch[];
  error?: unknown;
  /** true while the job's stream is followed */
  live: boolean;
}

const RETRY_MS = 1000;

/** `jobId` and `active` come from the model (undefined until it is loaded): a finished model is fetched once. */
export function useBnStats(modelId: string, jobId: string | undefined, active: boolean): BnStatsState {
  const [state, setState] = useState<BnStatsState>({ epochs: [], live: false });
  const known = useRef<BnStatsEpoch[]>([]);
  const shownModel = useRef<string | undefined>(undefined);

  useEffect(() => {
    const abort = new AbortController();
    const { signal } = abort;
    // Another model starts afresh; the same one whose job has just ended keeps what it has and asks for the rest.
    if (shownModel.current !== modelId) {
      shownModel.current = modelId;
      known.current = [];
      setState({ epochs: [], live: false });
    }
    // Nothing until the model is known: whether to follow its job depends on it.
    if (!jobId) return;
    // One fetch at a time, each asking from the epoch after the last one the one before brought.
    let chain: Promise<void> = Promise.resolve();
    const refresh = () => {
      chain = chain.then(async () => {
        if (signal.aborted) return;
        try {
          const { epochs, ...response } = await getBnStats(modelId, known.current.length ? nextEpoch(known.current) : undefined, signal);
          if (signal.aborted) return;
          known.current = mergeBnEpochs(known.current, epochs);
          setState((s) => ({ ...s, response, epochs: known.current, error: undefined }));
        } catch (error) {
          if (!signal.aborted) setState((s) => ({ ...s, error }));
        }
      });
      return chain;
    };
    void refresh();
    if (active) {
      setState((s) => ({ ...s, live: true }));
      followJob(
        jobId,
        {
          onEvent(event, data) {
            if (event !== 'epoch' && !FINAL_EVENTS.has(event)) return;
            // The statistics of an epoch are written just after its metrics: when this answer does not
            // have them yet, ask once more a moment later rather than wait for the next epoch.
            const epoch = (data as { epoch?: unknown } | null)?.epoch;
            void refresh().then(() => {
              if (typeof epoch === 'number' && nextEpoch(known.current) <= epoch && !signal.aborted) setTimeout(() => void refresh(), RETRY_MS);
            });
          },
        },
        signal,
      )
        .catch((error: unknown) => !signal.aborted && setState((s) => ({ ...s, error })))
        .finally(() => !signal.aborted && setState((s) => ({ ...s, live: false })));
    }
    return () => abort.abort();
  }, [modelId, jobId, active]);

  return state;
}
