// A model: its checkpoints with their metrics and downloads, its curves, and a prediction form whose
// explanation is the per-BN-layer trace h → ĥ → r next to the statistics that produced it.
import { useMemo, useState } from 'preact/hooks';
import { CHART_DATA, curvePoints, curveSpec } from '../../../src/charts/training-curves.js';
import { api } from '../api/client.js';
import type { DatasetInfo, ModelDetail } from '../api/types.js';
import { ApiErrorBox } from '../components/api-error.js';
import { Chart } from '../components/chart.js';
import { DownloadLink } from '../components/download-link.js';
import { EpochTable } from '../components/epoch-table.js';
import { OptionsList } from '../components/options.js';
import { StatusBadge } from '../components/status.js';
import { useAsync } from '../components/use-async.js';
import { useTitle } from '../components/use-title.js';
import { fmtDate } from '../format.js';
import { networkOf } from '../model-text.js';
import { PredictForm } from './predict-form.js';

export function ModelPage({ modelId }: { modelId: string }) {
  useTitle(`Model ${modelId}`);
  const model = useAsync((signal) => api<ModelDetail>(`/v1/models/${modelId}`, { signal }), [modelId]);
  const m = model.value;
  // Feature names and means for the prediction form; the form works without them (x[0], x[1], ...).
  const dataset = useAsync(
    (signal) => (m ? api<DatasetInfo>(`/v1/datasets/${encodeURIComponent(m.datasetId)}`, { signal }) : Promise.resolve(undefined)),
    [m?.datasetId],
  );
  const [downloadError, setDownloadError] = useState<unknown>();
  const history = useMemo(() => (m ? m.checkpoints.map((c) => c.metrics) : []), [m]);
  const epochs = m?.training.epochs;
  const lossSpec = useMemo(() => curveSpec(curvePoints(history, 'loss'), 'loss', { epochs }), [history, epochs]);
  const accuracySpec = useMemo(() => curveSpec(curvePoints(history, 'accuracy'), 'accuracy', { epochs }), [history, epochs]);

  return (
    <section>
      <div class="page-head">
        <h1>
          Model <code>{modelId}</code>
        </h1>
        {m && <StatusBadge status={m.status} />}
        <button type="button" class="secondary" onClick={model.reload} disabled={model.loading}>
          Refresh
        </button>
      </div>
      <ApiErrorBox error={model.error} title="The model could not be loaded" />
      {m && (
        <>
          <dl class="facts">
            <div>
              <dt>Training job</dt>
              <dd>
                <a href={`/ui/jobs/${m.jobId}`}>
                  <code>{m.jobId}</code>
                </a>
              </dd>
            </div>
            <div>
              <dt>Task</dt>
              <dd>{m.spec.task}</dd>
            </div>
            <div>
              <dt>Network</dt>
              <dd>{networkOf(m.inputDim, m.spec.hidden, m.outputDim, m.spec.batchNorm.enabled)}</dd>
            </div>
            <div>
              <dt>Dataset</dt>
              <dd>
                <a href={`/ui/datasets/${encodeURIComponent(m.datasetId)}`}>
                  <code>{m.datasetId}</code>
                </a>
              </dd>
            </div>
            <div>
              <dt>Checkpoints</dt>
              <dd>{m.latestEpoch === null ? 'none yet' : `${m.checkpoints.length} (latest: epoch ${m.latestEpoch})`}</dd>
            </div>
            <div>
              <dt>Created</dt>
              <dd>{fmtDate(m.createdAt)}</dd>
            </div>
          </dl>
          {m.error && (
            <div class="error" role="alert">
              <strong>Training failed</strong>
              <p class="pre">{m.error}</p>
            </div>
          )}
          {m.latestEpoch !== null && (
            <>
              <div class="charts">
                <Chart name="loss" spec={lossSpec} dataset={CHART_DATA} caption="Loss per epoch: training and validation" />
                {m.spec.task !== 'regression' && (
                  <Chart name="accuracy" spec={accuracySpec} dataset={CHART_DATA} caption="Accuracy per epoch: training and validation" />
                )}
              </div>
              <h2>Predict</h2>
              <PredictForm model={m} dataset={dataset.value} datasetError={dataset.error} />
              <h2>Checkpoints</h2>
              <ApiErrorBox error={downloadError} title="The download failed" />
              <EpochTable
                history={history}
                caption="Checkpoints (one per epoch) with their metrics and files"
                limit={CHECKPOINT_ROWS}
                extra={{
                  header: 'Download',
                  cell: (c) => <Downloads modelId={m.modelId} epoch={c.epoch} onError={setDownloadError} />,
                }}
              />
            </>
          )}
          <div class="columns">
            <OptionsList caption="Model (resolved, every default filled in)" options={{ model: m.spec }} />
            <OptionsList caption="Training options" options={{ training: m.training }} />
          </div>
        </>
      )}
    </section>
  );
}

/** Newest checkpoints listed at first; the rest on request. */
const CHECKPOINT_ROWS = 20;

// model.json names weights.bin in its weightsManifest: those two keep their names so that they load together.
const FILES = [
  { file: '', name: (id: string, epoch: number) => `${id}-epoch-${epoch}.json`, text: 'document', what: 'checkpoint document (JSON)' },
  { file: '/model.json', name: () => 'model.json', text: 'model.json', what: 'TF.js layers model' },
  { file: '/weights.bin', name: () => 'weights.bin', text: 'weights.bin', what: 'TF.js weights' },
  { file: '/model.onnx', name: (id: string, epoch: number) => `${id}-epoch-${epoch}.onnx`, text: 'ONNX', what: 'ONNX model' },
];

function Downloads({ modelId, epoch, onError }: { modelId: string; epoch: number; onError: (e: unknown) => void }) {
  return (
    <span class="downloads">
      {FILES.map((f) => (
        <DownloadLink
          key={f.file}
          href={`/v1/models/${modelId}/checkpoints/${epoch}${f.file}`}
          fileName={f.name(modelId, epoch)}
          label={`epoch ${epoch}: ${f.what}`}
          onError={onError}
        >
          {f.text}
        </DownloadLink>
      ))}
    </span>
  );
}
