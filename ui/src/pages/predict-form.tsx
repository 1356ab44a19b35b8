// One point in, the model's output out, and with `explain` each BN layer's trace h → ĥ → r beside the
// moving mean and variance, gamma and beta of the checkpoint that produced it, so that anyone can redo
// r = gamma * (h - movingMean) / sqrt(movingVariance + epsilon) + beta by hand.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiRequestError } from '../api/client.js';
import type { BatchNormLayer, BatchNormTrace, CheckpointDocument, DatasetInfo, ModelDetail, PredictOne } from '../api/types.js';
import { ApiErrorBox } from '../components/api-error.js';
import { fmt } from '../format.js';

/** Above this many features one field per feature is unwieldy: the point is typed as a list. */
const MAX_FIELDS = 32;

interface Props {
  model: ModelDetail;
  dataset?: DatasetInfo;
  datasetError?: unknown;
  /** A point chosen elsewhere (a dataset row): fills the form; a new object each time. */
  fill?: { x: number[] };
}

interface Answer {
  prediction: PredictOne;
  bn: BatchNormLayer[];
}

function parsePoint(values: string[], asList: string, inputDim: number, useList: boolean): number[] {
  const raw = useList ? asList.split(/[\s,;]+/).filter((v) => v !== '') : values;
  if (useList && raw.length !== inputDim) {
    throw new ApiRequestError(400, `x has ${raw.length} values; the model expects ${inputDim}`, 'x');
  }
  return raw.map((v, j) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new ApiRequestError(400, `x[${j}] must be a number`, `x[${j}]`);
    return n;
  });
}

export function PredictForm({ model, dataset, datasetError, fill }: Props) {
  const inputDim = model.inputDim;
  const useList = inputDim > MAX_FIELDS;
  const names = dataset?.featureNames?.length === inputDim ? dataset.featureNames : undefined;
  const [values, setValues] = useState<string[]>(() => Array.from({ length: inputDim }, () => ''));
  const [asList, setAsList] = useState('');
  const [checkpoint, setCheckpoint] = useState('latest');
  const [explain, setExplain] = useState(true);
  const [answer, setAnswer] = useState<Answer>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const badField = error instanceof ApiRequestError ? error.field : undefined;

  useEffect(() => {
    if (!fill) return;
    const text = fill.x.map(String);
    setValues(text);
    setAsList(text.join(', '));
    document.getElementById(useList ? 'x-list' : 'x-0')?.focus();
  }, [fill]);

  const fillMeans = () => {
    if (!dataset) return;
    const means = dataset.stats.mean.map((v) => String(Number(v.toPrecision(6))));
    setValues(means);
    setAsList(means.join(', '));
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const x = parsePoint(values, asList, inputDim, useList);
      const query = new URLSearchParams({ checkpoint, ...(explain && { explain: 'true' }) });
      const prediction = await api<PredictOne>(`/v1/models/${model.modelId}/predict?${query}`, { method: 'POST', json: { x } });
      let bn: BatchNormLayer[] = [];
      if (prediction.explanation && prediction.explanation.batchNorm.length > 0) {
        const doc = await api<CheckpointDocument>(`/v1/models/${model.modelId}/checkpoints/${prediction.checkpoint}?include=bn`);
        bn = doc.layers.filter((l): l is BatchNormLayer => l.type === 'batchNorm');
      }
      setAnswer({ prediction, bn });
    } catch (err) {
      setAnswer(undefined);
      setError(err);
      const field = err instanceof ApiRequestError ? err.field : undefined;
      if (field) document.getElementById(fieldId(field, useList))?.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="predict">
      <form onSubmit={submit} class="predict-form" aria-describedby="predict-help" noValidate>
        <p id="predict-help" class="help">
          Inference mode: every BN layer uses its moving mean and variance; nothing is updated.
          {names ? '' : ' Features are numbered as in the dataset.'}
        </p>
        {datasetError !== undefined && (
          <p class="help">Feature names are not available ({(datasetError as Error).message}).</p>
        )}
        {!useList ? (
          <fieldset>
            <legend>Point x ({inputDim} features)</legend>
            <div class="fields">
              {values.map((v, j) => (
                <div class="field" key={j}>
                  <label for={`x-${j}`}>{names ? names[j] : `x[${j}]`}</label>
                  <input
                    id={`x-${j}`}
                    name={`x[${j}]`}
                    type="text"
                    inputMode="decimal"
                    required
                    value={v}
                    placeholder={dataset ? `mean ${fmt(dataset.stats.mean[j])}` : undefined}
                    aria-invalid={badField === `x[${j}]` || badField === 'x' ? 'true' : undefined}
                    onInput={(e) => {
                      const next = [...values];
                      next[j] = e.currentTarget.value;
                      setValues(next);
                    }}
                  />
                </div>
              ))}
            </div>
          </fieldset>
        ) : (
          <div class="field">
            <label for="x-list">Point x: {inputDim} numbers separated by commas or spaces</label>
            <textarea id="x-list" name="x" rows={4} value={asList} aria-invalid={badField?.startsWith('x') ? 'true' : undefined} onInput={(e) => setAsList(e.currentTarget.value)} />
          </div>
        )}
        <div class="row">
          <div class="field">
            <label for="predict-checkpoint">Checkpoint</label>
            <select id="predict-checkpoint" value={checkpoint} onChange={(e) => setCheckpoint(e.currentTarget.value)}>
              <option value="latest">latest (epoch {model.latestEpoch})</option>
              {[...model.checkpoints].reverse().map((c) => (
                <option key={c.epoch} value={String(c.epoch)}>
                  epoch {c.epoch}
                </option>
              ))}
            </select>
          </div>
          <div class="field checkbox">
            <input id="predict-explain" type="checkbox" checked={explain} onChange={(e) => setExplain(e.currentTarget.checked)} />
            <label for="predict-explain">Explain (trace every BN layer)</label>
          </div>
        </div>
        <div class="actions">
          <button type="submit" disabled={busy}>
            Predict
          </button>
          {dataset && (
            <button type="button" class="secondary" onClick={fillMeans}>
              Fill with the dataset's means
            </button>
          )}
        </div>
      </form>
      <ApiErrorBox error={error} title="No prediction" />
      {answer && <PredictionResult model={model} answer={answer} />}
    </div>
  );
}

function fieldId(field: string, useList: boolean): string {
  if (useList) return 'x-list';
  const m = /^x\[(\d+)\]$/.exec(field);
  return m ? `x-${m[1]}` : 'x-0';
}

function PredictionResult({ model, answer }: { model: ModelDetail; answer: Answer }) {
  const { prediction, bn } = answer;
  const { y } = prediction;
  return (
    <div class="result" aria-live="polite" data-testid="prediction">
      <h3>Output (checkpoint of epoch {prediction.checkpoint})</h3>
      <dl class="facts">
        {prediction.class !== undefined && (
          <div>
            <dt>Class</dt>
            <dd data-testid="predicted-class">{prediction.class}</dd>
          </div>
        )}
        <div>
          <dt>{model.spec.task === 'binary' ? 'y (probability of class 1)' : model.spec.task === 'regression' ? 'y' : 'y (class probabilities)'}</dt>
          <dd data-testid="predicted-y">{y.length === 1 ? fmt(y[0], 6) : y.map((v, k) => `${k}: ${fmt(v, 4)}`).join(', ')}</dd>
        </div>
      </dl>
      {prediction.explanation && (
        <>
          <h3>Explanation</h3>
          {prediction.explanation.batchNorm.length === 0 && <p>This model has no BN layer: there is nothing to trace.</p>}
          {prediction.explanation.batchNorm.map((trace, i) => (
            <BnTrace key={trace.name} trace={trace} layer={bn.find((l) => l.name === trace.name)} open={i === 0} />
          ))}
        </>
      )}
    </div>
  );
}

function BnTrace({ trace, layer, open }: { trace: BatchNormTrace; layer?: BatchNormLayer; open: boolean }) {
  return (
    <details class="bn-trace" open={open} data-layer={trace.name}>
      <summary>
        <code>{trace.name}</code>: {trace.h.length} units
      </summary>
      <div class="table-wrap">
        <table class="list numbers">
          <caption>
            ĥ = (h − μ) / √(σ² + ε), r = γ·ĥ + β{layer && <>, with ε = {layer.epsilon}</>}
          </caption>
          <thead>
            <tr>
              <th scope="col">Unit</th>
              <th scope="col">h (input)</th>
              {layer && <th scope="col">μ (moving mean)</th>}
              {layer && <th scope="col">σ² (moving variance)</th>}
              <th scope="col">ĥ</th>
              {layer && <th scope="col">γ</th>}
              {layer && <th scope="col">β</th>}
              <th scope="col">r (output)</th>
            </tr>
          </thead>
          <tbody>
            {trace.h.map((h, j) => (
              <tr key={j}>
                <th scope="row">{j}</th>
                <td>{fmt(h, 6)}</td>
                {layer && <td>{fmt(layer.movingMean[j], 6)}</td>}
                {layer && <td>{fmt(layer.movingVariance[j], 6)}</td>}
                <td>{fmt(trace.hhat[j], 6)}</td>
                {layer && <td>{fmt(layer.gamma[j], 6)}</td>}
                {layer && <td>{fmt(layer.beta[j], 6)}</td>}
                <td>{fmt(trace.r[j], 6)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
