// Evaluate a checkpoint of the model on a dataset split (by default its own dataset's test part) with
// the frozen statistics: POST /v1/models/:modelId/evaluate.
import { useState } from 'preact/hooks';
import { api, ApiRequestError } from '../api/client.js';
import type { DatasetInfo, EvaluateResponse, ModelDetail } from '../api/types.js';
import { ApiErrorBox } from '../components/api-error.js';
import { EvaluationView } from '../components/evaluation.js';
import { CheckpointOptions } from './checkpoint-options.js';

export function EvaluateForm({ model, dataset }: { model: ModelDetail; dataset?: DatasetInfo }) {
  const [datasetId, setDatasetId] = useState(model.datasetId);
  const [split, setSplit] = useState<string>('');
  const [checkpoint, setCheckpoint] = useState('latest');
  const [result, setResult] = useState<EvaluateResponse>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  // The model's own dataset without a test part: its training rows are what can be evaluated.
  const chosenSplit = split || (datasetId === model.datasetId && dataset && !dataset.test ? 'train' : 'test');
  const bad = error instanceof ApiRequestError ? error.field : undefined;

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      setResult(
        await api<EvaluateResponse>(`/v1/models/${model.modelId}/evaluate`, {
          method: 'POST',
          json: { datasetId: datasetId.trim(), split: chosenSplit, checkpoint: /^\d+$/.test(checkpoint) ? Number(checkpoint) : checkpoint },
        }),
      );
    } catch (err) {
      setResult(undefined);
      setError(err);
      const field = err instanceof ApiRequestError ? err.field : undefined;
      if (field) document.getElementById(`evaluate-${field}`)?.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="evaluate">
      <form onSubmit={submit} noValidate>
        <p class="help">Inference mode over every row of the split, in chunks: loss, and for classification accuracy and the confusion matrix.</p>
        <div class="row">
          <div class="field">
            <label for="evaluate-datasetId">Dataset</label>
            <input id="evaluate-datasetId" type="text" value={datasetId} aria-invalid={bad === 'datasetId' ? 'true' : undefined} onInput={(e) => setDatasetId(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="evaluate-split">Split</label>
            <select id="evaluate-split" value={chosenSplit} aria-invalid={bad === 'split' ? 'true' : undefined} onChange={(e) => setSplit(e.currentTarget.value)}>
              <option value="test">test (held out)</option>
              <option value="train">train</option>
              <option value="all">all (train, then test)</option>
            </select>
          </div>
          <div class="field">
            <label for="evaluate-checkpoint">Checkpoint</label>
            <select id="evaluate-checkpoint" value={checkpoint} aria-invalid={bad === 'checkpoint' ? 'true' : undefined} onChange={(e) => setCheckpoint(e.currentTarget.value)}>
              <CheckpointOptions model={model} />
            </select>
          </div>
        </div>
        <div class="actions">
          <button type="submit" disabled={busy}>
            Evaluate
          </button>
        </div>
      </form>
      <ApiErrorBox error={error} title="Not evaluated" />
      {result && (
        <EvaluationView
          testId="evaluation"
          result={result}
          caption={`${result.split} split of ${result.datasetId}, checkpoint of epoch ${result.checkpoint}`}
        />
      )}
    </div>
  );
}
