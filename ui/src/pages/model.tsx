// A model: its checkpoints with their metrics and downloads, its curves, its test metrics, a prediction
// form whose explanation is the per-BN-layer trace h → ĥ → r next to the statistics that produced it (for
// an image model, fed from a dataset row drawn as its image), evaluation on a split, and its aliases.
import { useMemo, useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { DatasetInfo, ModelDetail } from '../api/types.js';
import { EvaluationView } from '../components/evaluation.js';
import { DigitPicker, isImageDataset } from './digit-picker.js';
import { EvaluateForm } from './evaluate-form.js';
import { ModelAliases } from './model-aliases.js';
import { ApiErrorBox, FailureBox } from '../components/api-error.js';
import { TrainingCurves } from '../components/training-curves.js';
import { DownloadLink } from '../components/download-link.js';
import { EpochTable } from '../components/epoch-table.js';
import { Fact, ModelFacts } from '../components/facts.js';
import { OptionsList } from '../components/options.js';
import { StatusBadge } from '../components/status.js';
import { useAsync } from '../components/use-async.js';
import { useTitle } from '../components/use-title.js';
import { fmtDate } from '../format.js';
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
  // A row the digit picker handed over, for the model it was picked for.
  const [fill, setFill] = useState<{ modelId: string; x: number[] }>();
  // Recorded at the job's end on the dataset's test part (absent before, or without a test part).
  const testMetrics = m?.testMetrics;
  const history = useMemo(() => (m ? m.checkpoints.map((c) => c.metrics) : []), [m]);
  const epochs = m?.training.epochs;

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
            <Fact term="Training job">
              <a href={`/ui/jobs/${m.jobId}`}>
                <code>{m.jobId}</code>
              </a>
            </Fact>
            <Fact term="Task">{m.spec.task}</Fact>
            <ModelFacts model={m} />
            <Fact term="BN statistics">
              <a href={`/ui/models/${m.modelId}/bn`}>per layer and epoch</a>
            </Fact>
            <Fact term="Checkpoints">{m.latestEpoch === null ? 'none yet' : `${m.checkpoints.length} (latest: epoch ${m.latestEpoch})`}</Fact>
            <Fact term="Created">{fmtDate(m.createdAt)}</Fact>
          </dl>
          {m.error && <FailureBox title="Training failed" message={m.error} />}
          {testMetrics && <EvaluationView testId="test-metrics" result={testMetrics} caption={`Test metrics (the dataset's test part, checkpoint of epoch ${testMetrics.checkpoint})`} />}
          {m.latestEpoch !== null && (
            <>
              <TrainingCurves history={history} epochs={epochs} classification={m.spec.task !== 'regression'} />
              <h2>Predict</h2>
              {dataset.value && isImageDataset(m.inputDim) && <DigitPicker key={m.modelId} dataset={dataset.value} onUse={(x) => setFill({ modelId: m.modelId, x })} />}
              {/* Keyed by model: another model's page starts with fresh forms (the route reuses this component). */}
              <PredictForm key={m.modelId} model={m} dataset={dataset.value} datasetError={dataset.error} fill={fill?.modelId === m.modelId ? fill : undefined} />
              <h2>Evaluate</h2>
              <EvaluateForm key={m.modelId} model={m} dataset={dataset.value} />
              <h2>Aliases</h2>
              <ModelAliases key={m.modelId} model={m} onChanged={model.reload} />
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
