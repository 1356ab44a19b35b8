// A training job from a form: dataset, network, BN, optimizer and schedule. Choices, defaults and help
// come from the API's own schemas, so the form offers exactly what the API accepts. Submitting goes to the
// job's page; an error names its field, which is marked and focused.
import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { BatchNormSpec, ModelRequest, RetentionOptions, TrainingOptions, WeightInitSpec } from '../../../src/schemas/model-spec.js';
import { EarlyStopping, LearningRateSchedule } from '../../../src/schemas/training-extras.js';
import { api, ApiRequestError } from '../api/client.js';
import { getDataset, knownDatasetIds } from '../api/datasets.js';
import type { DatasetInfo, JobAccepted } from '../api/types.js';
import { ApiErrorBox } from '../components/api-error.js';
import { useTitle } from '../components/use-title.js';

interface SchemaInfo {
  enum?: string[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

const info = (schema: unknown) => schema as SchemaInfo;
const T = TrainingOptions.properties;
const M = ModelRequest.properties;
const BN = BatchNormSpec.properties;
const LR = LearningRateSchedule.properties;
const ES = EarlyStopping.properties;
const WI = WeightInitSpec.properties;
const KEEP = RetentionOptions.properties;

/** The built-in image sets: their pixels are unit (/255, the default) or raw (0-255), a suffix of the id. */
const IMAGE_SETS = /^(builtin:(?:mnist|fashion-mnist))(?:\?scale=(unit|raw))?$/;

/** Form fields by the API field they fill: the id of each control is derived from it. */
const controlId = (field: string) => `job-${field.replace(/[^A-Za-z0-9]+/g, '-')}`;

interface Form {
  datasetId: string;
  hidden: string;
  task: string;
  activation: string;
  bnEnabled: boolean;
  placement: string;
  momentum: string;
  optimizer: string;
  learningRate: string;
  epochs: string;
  batchSize: string;
  validationSplit: string;
  seed: string;
  schedule: string;
  stepEpochs: string;
  factor: string;
  minLearningRate: string;
  warmupEpochs: string;
  earlyStopping: boolean;
  monitor: string;
  patience: string;
  minDelta: string;
  bnStatistics: string;
  initMethod: string;
  initMin: string;
  initMax: string;
  keepLast: string;
  keepBest: string;
}

const initial = (datasetId: string): Form => ({
  datasetId,
  hidden: '32, 32',
  task: 'binary',
  activation: String(info(M.activation).default),
  bnEnabled: info(BN.enabled).default !== false,
  placement: String(info(BN.placement).default),
  momentum: String(info(BN.momentum).default),
  optimizer: String(info(T.optimizer).default),
  learningRate: String(info(T.learningRate).default),
  epochs: String(info(T.epochs).default),
  batchSize: String(info(T.batchSize).default),
  validationSplit: String(info(T.validationSplit).default),
  seed: '',
  schedule: String(info(LR.type).default),
  stepEpochs: String(info(LR.stepEpochs).default),
  factor: String(info(LR.factor).default),
  minLearningRate: String(info(LR.minLearningRate).default),
  warmupEpochs: String(info(LR.warmupEpochs).default),
  earlyStopping: false,
  monitor: String(info(ES.monitor).default),
  patience: String(info(ES.patience).default),
  minDelta: String(info(ES.minDelta).default),
  bnStatistics: String(info(T.bnStatistics).default),
  initMethod: String(info(WI.method).default),
  initMin: String(info(WI.min).default),
  initMax: String(info(WI.max).default),
  keepLast: String(info(KEEP.keepLast).default),
  keepBest: String(info(KEEP.keepBest).default),
});

/** The task a dataset suggests: two classes binary, more multiclass, none regression. */
function taskFor(d: DatasetInfo): string {
  if (d.classes === undefined) return 'regression';
  return d.classes <= 2 ? 'binary' : 'multiclass';
}

function numberField(value: string, field: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new ApiRequestError(400, `${field} must be a number`, field);
  return n;
}

function requestOf(f: Form) {
  const hidden = f.hidden
    .split(/[\s,]+/)
    .filter((v) => v !== '')
    .map((v, i) => {
      const n = Number(v);
      if (!Number.isInteger(n)) throw new ApiRequestError(400, `model.hidden[${i}] must be a whole number of units, not ${JSON.stringify(v)}`, 'model.hidden');
      return n;
    });
  if (hidden.length === 0) throw new ApiRequestError(400, 'model.hidden needs at least one layer, e.g. 32, 32', 'model.hidden');
  return {
    datasetId: f.datasetId.trim(),
    model: {
      hidden,
      task: f.task,
      activation: f.activation,
      batchNorm: f.bnEnabled
        ? { enabled: true, placement: f.placement, momentum: numberField(f.momentum, 'model.batchNorm.momentum') }
        : { enabled: false },
      weightInit:
        f.initMethod === 'uniform'
          ? { method: f.initMethod, min: numberField(f.initMin, 'model.weightInit.min'), max: numberField(f.initMax, 'model.weightInit.max') }
          : { method: f.initMethod },
    },
    training: {
      optimizer: f.optimizer,
      learningRate: numberField(f.learningRate, 'training.learningRate'),
      epochs: numberField(f.epochs, 'training.epochs'),
      batchSize: numberField(f.batchSize, 'training.batchSize'),
      validationSplit: numberField(f.validationSplit, 'training.validationSplit'),
      ...(f.seed.trim() !== '' && { seed: numberField(f.seed, 'training.seed') }),
      learningRateSchedule: {
        type: f.schedule,
        ...(f.schedule === 'step' && {
          stepEpochs: numberField(f.stepEpochs, 'training.learningRateSchedule.stepEpochs'),
          factor: numberField(f.factor, 'training.learningRateSchedule.factor'),
        }),
        ...(f.schedule === 'cosine' && { minLearningRate: numberField(f.minLearningRate, 'training.learningRateSchedule.minLearningRate') }),
        warmupEpochs: numberField(f.warmupEpochs, 'training.learningRateSchedule.warmupEpochs'),
      },
      ...(f.earlyStopping && {
        earlyStopping: {
          monitor: f.monitor,
          patience: numberField(f.patience, 'training.earlyStopping.patience'),
          minDelta: numberField(f.minDelta, 'training.earlyStopping.minDelta'),
        },
      }),
      ...(f.bnEnabled && { bnStatistics: f.bnStatistics }),
      checkpoints: { keepLast: numberField(f.keepLast, 'training.checkpoints.keepLast'), keepBest: numberField(f.keepBest, 'training.checkpoints.keepBest') },
    },
  };
}

/** The control an error's field belongs to (model.hidden[2] -> the hidden-layers field). */
function controlFor(field: string | undefined): string | undefined {
  if (!field) return undefined;
  const known = [
    'datasetId',
    'model.hidden',
    'model.task',
    'model.activation',
    'model.batchNorm.placement',
    'model.batchNorm.momentum',
    'model.batchNorm',
    'model.weightInit.method',
    'model.weightInit.min',
    'model.weightInit.max',
    'training.optimizer',
    'training.learningRate',
    'training.epochs',
    'training.batchSize',
    'training.validationSplit',
    'training.seed',
    'training.learningRateSchedule.type',
    'training.learningRateSchedule.stepEpochs',
    'training.learningRateSchedule.factor',
    'training.learningRateSchedule.minLearningRate',
    'training.learningRateSchedule.warmupEpochs',
    'training.earlyStopping.monitor',
    'training.earlyStopping.patience',
    'training.earlyStopping.minDelta',
    'training.earlyStopping',
    'training.bnStatistics',
    'training.checkpoints.keepLast',
    'training.checkpoints.keepBest',
  ];
  const match = known.find((k) => field === k || field.startsWith(`${k}[`) || field.startsWith(`${k}.`));
  if (match === 'model.batchNorm') return controlId('model.batchNorm.enabled');
  if (match === 'training.earlyStopping') return controlId('training.earlyStopping.enabled');
  return match && controlId(match);
}

export function NewJobPage() {
  useTitle('New training job');
  const { query, route } = useLocation();
  const [form, setForm] = useState<Form>(() => initial(query.dataset ?? 'builtin:blobs'));
  const [datasets, setDatasets] = useState<string[]>([]);
  const [dataset, setDataset] = useState<DatasetInfo>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const bad = controlFor(error instanceof ApiRequestError ? error.field : undefined);
  const set = <K extends keyof Form>(key: K, value: Form[K]) => setForm((f) => ({ ...f, [key]: value }));

  useEffect(() => {
    const abort = new AbortController();
    knownDatasetIds(abort.signal).then(setDatasets, (err: unknown) => !abort.signal.aborted && setError(err));
    return () => abort.abort();
  }, []);

  // The chosen dataset's size and classes, and the task they suggest.
  useEffect(() => {
    const id = form.datasetId.trim();
    if (!/^(builtin:[a-z0-9-]+(\?scale=(unit|raw))?|[A-Za-z0-9_-]+)$/.test(id)) return setDataset(undefined);
    const abort = new AbortController();
    getDataset(id, abort.signal).then(
      (d) => {
        setDataset(d);
        set('task', taskFor(d));
      },
      () => !abort.signal.aborted && setDataset(undefined),
    );
    return () => abort.abort();
  }, [form.datasetId]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const accepted = await api<JobAccepted>('/v1/training-jobs', { method: 'POST', json: requestOf(form) });
      route(`/ui/jobs/${accepted.jobId}`);
    } catch (err) {
      setError(err);
      const id = controlFor(err instanceof ApiRequestError ? err.field : undefined);
      if (id) document.getElementById(id)?.focus();
    } finally {
      setBusy(false);
    }
  };

  const image = IMAGE_SETS.exec(form.datasetId.trim());
  const invalid = (field: string) => (bad === controlId(field) ? 'true' : undefined);
  const select = (field: string, key: keyof Form, schema: unknown, label: string) => (
    <div class="field">
      <label for={controlId(field)}>{label}</label>
      <select
        id={controlId(field)}
        value={String(form[key])}
        aria-invalid={invalid(field)}
        aria-describedby={info(schema).description ? `${controlId(field)}-help` : undefined}
        onChange={(e) => set(key, e.currentTarget.value as never)}
      >
        {(info(schema).enum ?? []).map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
      {info(schema).description && (
        <p class="help" id={`${controlId(field)}-help`}>
          {info(schema).description}
        </p>
      )}
    </div>
  );
  const text = (field: string, key: keyof Form, label: string, help?: string, inputMode: 'decimal' | 'numeric' | 'text' = 'decimal') => (
    <div class="field">
      <label for={controlId(field)}>{label}</label>
      <input
        id={controlId(field)}
        type="text"
        inputMode={inputMode}
        value={String(form[key])}
        aria-invalid={invalid(field)}
        aria-describedby={help ? `${controlId(field)}-help` : undefined}
        onInput={(e) => set(key, e.currentTarget.value as never)}
      />
      {help && (
        <p class="help" id={`${controlId(field)}-help`}>
          {help}
        </p>
      )}
    </div>
  );

  return (
    <section>
      <h1>New training job</h1>
      <form class="job-form" onSubmit={submit} noValidate>
        <fieldset>
          <legend>Data</legend>
          <div class="field">
            <label for={controlId('datasetId')}>Dataset</label>
            <input
              id={controlId('datasetId')}
              type="text"
              list="job-datasets"
              required
              value={form.datasetId}
              aria-invalid={invalid('datasetId')}
              aria-describedby="job-datasetId-help"
              onInput={(e) => set('datasetId', e.currentTarget.value)}
            />
            <datalist id="job-datasets">
              {datasets.map((id) => (
                <option key={id} value={id} />
              ))}
            </datalist>
            <p class="help" id="job-datasetId-help">
              {dataset
                ? `${dataset.name ?? dataset.id}: ${dataset.rows} rows, ${dataset.features} features${dataset.classes !== undefined ? `, ${dataset.classes} classes` : ''}`
                : 'An uploaded dataset (ds_…) or a built-in one (builtin:…).'}{' '}
              <a href="/ui/datasets">Upload one</a>
            </p>
          </div>
          {image && (
            <div class="field">
              <label for="job-pixel-scale">Pixel scale</label>
              <select id="job-pixel-scale" aria-describedby="job-pixel-scale-help" value={image[2] ?? 'unit'} onChange={(e) => set('datasetId', e.currentTarget.value === 'raw' ? `${image[1]}?scale=raw` : image[1])}>
                <option value="unit">unit (pixels / 255, in [0, 1])</option>
                <option value="raw">raw (0-255)</option>
              </select>
              <p class="help" id="job-pixel-scale-help">
                The image sets' pixels as the network sees them; raw is the <code>?scale=raw</code> suffix of the dataset id.
              </p>
            </div>
          )}
        </fieldset>
        <fieldset>
          <legend>Network</legend>
          <div class="row">
            {text('model.hidden', 'hidden', 'Hidden layers (units, comma-separated)', info(M.hidden).description, 'text')}
            {select('model.task', 'task', M.task, 'Task')}
            {select('model.activation', 'activation', M.activation, 'Activation')}
          </div>
          <div class="row">
            <div class="field checkbox">
              <input
                id={controlId('model.batchNorm.enabled')}
                type="checkbox"
                checked={form.bnEnabled}
                aria-invalid={invalid('model.batchNorm.enabled')}
                onChange={(e) => set('bnEnabled', e.currentTarget.checked)}
              />
              <label for={controlId('model.batchNorm.enabled')}>Batch Normalization (one BN layer per hidden layer)</label>
            </div>
          </div>
          {form.bnEnabled && (
            <div class="row">
              {select('model.batchNorm.placement', 'placement', BN.placement, 'BN placement')}
              {text('model.batchNorm.momentum', 'momentum', 'BN momentum', info(BN.momentum).description)}
              {select('training.bnStatistics', 'bnStatistics', T.bnStatistics, 'BN population statistics')}
            </div>
          )}
          <div class="row">
            {select('model.weightInit.method', 'initMethod', WI.method, 'Weight initialisation')}
            {form.initMethod === 'uniform' && text('model.weightInit.min', 'initMin', 'Uniform min', info(WI.min).description)}
            {form.initMethod === 'uniform' && text('model.weightInit.max', 'initMax', 'Uniform max', info(WI.max).description)}
          </div>
        </fieldset>
        <fieldset>
          <legend>Training</legend>
          <div class="row">
            {select('training.optimizer', 'optimizer', T.optimizer, 'Optimizer')}
            {text('training.learningRate', 'learningRate', 'Learning rate')}
            {text('training.epochs', 'epochs', 'Epochs', undefined, 'numeric')}
            {text('training.batchSize', 'batchSize', 'Batch size', undefined, 'numeric')}
          </div>
          <div class="row">
            {text('training.validationSplit', 'validationSplit', 'Validation split', info(T.validationSplit).description)}
            {text('training.seed', 'seed', 'Seed (optional)', info(T.seed).description, 'numeric')}
          </div>
        </fieldset>
        <fieldset>
          <legend>Learning-rate schedule</legend>
          <div class="row">
            {select('training.learningRateSchedule.type', 'schedule', LR.type, 'Schedule')}
            {form.schedule === 'step' && text('training.learningRateSchedule.stepEpochs', 'stepEpochs', 'Epochs per step', info(LR.stepEpochs).description, 'numeric')}
            {form.schedule === 'step' && text('training.learningRateSchedule.factor', 'factor', 'Step factor', info(LR.factor).description)}
            {form.schedule === 'cosine' && text('training.learningRateSchedule.minLearningRate', 'minLearningRate', 'Minimum learning rate', info(LR.minLearningRate).description)}
            {text('training.learningRateSchedule.warmupEpochs', 'warmupEpochs', 'Warm-up epochs', info(LR.warmupEpochs).description, 'numeric')}
          </div>
        </fieldset>
        <fieldset>
          <legend>Early stopping and checkpoints</legend>
          <div class="row">
            <div class="field checkbox">
              <input
                id={controlId('training.earlyStopping.enabled')}
                type="checkbox"
                checked={form.earlyStopping}
                aria-invalid={invalid('training.earlyStopping.enabled')}
                aria-describedby="job-early-stopping-help"
                onChange={(e) => set('earlyStopping', e.currentTarget.checked)}
              />
              <label for={controlId('training.earlyStopping.enabled')}>Stop early</label>
            </div>
          </div>
          <p class="help" id="job-early-stopping-help">
            {info(EarlyStopping).description}
          </p>
          {form.earlyStopping && (
            <div class="row">
              {select('training.earlyStopping.monitor', 'monitor', ES.monitor, 'Monitored loss')}
              {text('training.earlyStopping.patience', 'patience', 'Patience (epochs)', info(ES.patience).description, 'numeric')}
              {text('training.earlyStopping.minDelta', 'minDelta', 'Minimum improvement', info(ES.minDelta).description)}
            </div>
          )}
          <div class="row">
            {text('training.checkpoints.keepLast', 'keepLast', 'Keep the last N checkpoints', info(KEEP.keepLast).description, 'numeric')}
            {text('training.checkpoints.keepBest', 'keepBest', 'Keep the best N checkpoints', info(KEEP.keepBest).description, 'numeric')}
          </div>
        </fieldset>
        <div class="actions">
          <button type="submit" disabled={busy}>
            Start training
          </button>
        </div>
        <ApiErrorBox error={error} title="The job was not queued" />
      </form>
    </section>
  );
}
