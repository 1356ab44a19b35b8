// What BN did in a model, epoch by epoch: per hidden layer, bands of γ, β and the moving statistics
// across the layer's units, the drift of the layer's input, and warnings for collapsed units. Live while
// the model's job trains.
import { useEffect, useMemo, useRef } from 'preact/hooks';
import { api } from '../api/client.js';
import { layersOf, type BnStatsEpoch, type LayerInfo } from '../api/bn-stats.js';
import type { ModelDetail } from '../api/types.js';
import { ApiErrorBox } from '../components/api-error.js';
import { BandChart, DriftChart, type BandQuantity } from '../components/bn-charts.js';
import { CollapseFlags } from '../components/bn-flags.js';
import { Fact, ModelFacts } from '../components/facts.js';
import { StatusBadge, isActive } from '../components/status.js';
import { useAsync } from '../components/use-async.js';
import { useBnStats } from '../components/use-bn-stats.js';
import { useTitle } from '../components/use-title.js';

const BN_BANDS: BandQuantity[] = ['gamma', 'beta', 'movingMean', 'movingVariance'];
const PLAIN_BANDS: BandQuantity[] = ['mean', 'std'];

export function BnPanelPage({ modelId }: { modelId: string }) {
  useTitle(`BN statistics of ${modelId}`);
  const model = useAsync((signal) => api<ModelDetail>(`/v1/models/${modelId}`, { signal }), [modelId]);
  const m = model.value;
  const stats = useBnStats(modelId, m?.jobId, m ? isActive(m.status) : false);
  const layers = useMemo(() => layersOf(stats.epochs), [stats.epochs]);
  // The job's stream has ended: read the model again for its final status.
  const wasLive = useRef(false);
  useEffect(() => {
    if (wasLive.current && !stats.live) model.reload();
    wasLive.current = stats.live;
  }, [stats.live]);
  const latest = stats.epochs[stats.epochs.length - 1];
  const hasBatchNorm = layers.some((l) => l.batchNorm);

  return (
    <section>
      <div class="page-head">
        <h1>
          BN statistics of <code>{modelId}</code>
        </h1>
        {m && <StatusBadge status={m.status} />}
        <span class="stream" aria-live="polite">
          {stats.live ? 'live' : ''}
        </span>
      </div>
      <p>
        <a href={`/ui/models/${modelId}`}>Back to the model</a>
      </p>
      <ApiErrorBox error={model.error} title="The model could not be loaded" />
      <ApiErrorBox error={stats.error} title="The BN statistics could not be loaded" />
      {m && (
        <dl class="facts">
          <ModelFacts model={m} />
          <Fact term="Epochs measured">{latest ? `0-${latest.epoch}` : 'none yet'}</Fact>
          <Fact term="Probe rows">{stats.response?.probeRows ?? '–'}</Fact>
        </dl>
      )}
      <div class="help explain">
        <p>
          Each statistic is measured once per epoch (epoch 0 is the network as initialised) on the same probe batch of
          training rows. A <strong>band</strong> summarises a layer's units: the shaded band holds the middle 80 % of
          them (10th to 90th percentile), the line is the median unit and the dashed lines the smallest and largest.
        </p>
        <p>
          <strong>Drift</strong> is how far each unit's input distribution moved since the previous epoch: mean drift
          is the change of its mean in units of its previous standard deviation, std drift the relative change of its
          standard deviation (the "internal covariate shift" BN was designed to reduce; Ioffe &amp; Szegedy, 2015).
          Layers are numbered from 0, nearest the input, as the API numbers them.
        </p>
      </div>
      <CollapseFlags epoch={latest} hasBatchNorm={hasBatchNorm} />
      {stats.response && layers.length === 0 && <p>No epoch has been measured yet.</p>}
      {layers.map((l) => (
        <LayerSection key={l.layer} info={l} epochs={stats.epochs} planned={m?.training.epochs} />
      ))}
    </section>
  );
}

function LayerSection({ info, epochs, planned }: { info: LayerInfo; epochs: BnStatsEpoch[]; planned?: number }) {
  const bands = info.batchNorm ? BN_BANDS : PLAIN_BANDS;
  const props = { epochs, layer: info.layer, units: info.units, planned };
  return (
    <section class="bn-layer" data-layer={info.layer} data-batch-norm={String(info.batchNorm)}>
      <h2>
        Layer {info.layer} ({info.units} units, {info.batchNorm ? 'BN' : 'no BN'})
      </h2>
      <div class="charts">
        {bands.map((q) => (
          <BandChart key={q} quantity={q} {...props} />
        ))}
        <DriftChart measure="meanDrift" {...props} />
        <DriftChart measure="stdDrift" {...props} />
      </div>
    </section>
  );
}
