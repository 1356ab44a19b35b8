// The drift of each hidden layer's input per epoch, one colour per variant of an experiment, from each
// variant's BN statistics.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { getBnStats, layersOf, mergeBnEpochs, nextEpoch, type BnStatsEpoch } from '../api/bn-stats.js';
import type { ExperimentVariantStatus } from '../api/experiments.js';
import { ApiErrorBox } from './api-error.js';
import { DriftOverlayChart } from './bn-charts.js';

/**
 * Each variant's bn-stats: the whole record once, then only the epochs after the last one known, whenever
 * the variant has finished another epoch.
 */
export function DriftOverlay({ variants }: { variants: ExperimentVariantStatus[] }) {
  const [stats, setStats] = useState<Map<string, BnStatsEpoch[]>>(new Map());
  const [error, setError] = useState<unknown>();
  const progressKey = variants.map((v) => `${v.modelId}:${v.progress.epoch}:${v.status}`).join(',');
  const known = useRef(new Map<string, BnStatsEpoch[]>());
  const fetchedAt = useRef(new Map<string, string>());

  useEffect(() => {
    const abort = new AbortController();
    const stale = variants.filter((v) => fetchedAt.current.get(v.modelId) !== `${v.progress.epoch}:${v.status}`);
    void Promise.all(
      stale.map(async (v) => {
        const have = known.current.get(v.name) ?? [];
        try {
          const response = await getBnStats(v.modelId, have.length > 0 ? nextEpoch(have) : undefined, abort.signal);
          fetchedAt.current.set(v.modelId, `${v.progress.epoch}:${v.status}`);
          known.current.set(v.name, mergeBnEpochs(have, response.epochs));
        } catch (err) {
          if (!abort.signal.aborted) setError(err);
        }
      }),
    ).then(() => {
      if (!abort.signal.aborted && stale.length > 0) setStats(new Map(known.current));
    });
    return () => abort.abort();
  }, [progressKey]);

  const overlay = useMemo(() => {
    const shown = variants.flatMap((v) => {
      const epochs = stats.get(v.name);
      return epochs && epochs.length > 0 ? [{ variant: v.name, epochs }] : [];
    });
    const layers = [...new Set(shown.flatMap((v) => layersOf(v.epochs).map((l) => l.layer)))].sort((a, b) => a - b);
    return { shown, layers };
  }, [stats, variants]);
  const planned = Math.max(1, ...variants.map((v) => v.progress.epochs));

  if (overlay.layers.length === 0 && !error) return null;
  return (
    <>
      <h2>Drift per layer</h2>
      <p class="help">
        How far each layer's input distribution moved from one epoch to the next (the median unit's change of mean, in
        its previous standard deviations), per variant: BN should keep it small. Layers are numbered from 0, nearest the
        input.
      </p>
      <ApiErrorBox error={error} title="The BN statistics of a variant could not be loaded" />
      <div class="charts">
        {overlay.layers.map((layer) => (
          <DriftOverlayChart key={layer} layer={layer} variants={overlay.shown} planned={planned} />
        ))}
      </div>
    </>
  );
}

