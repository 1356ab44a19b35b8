// Resolving and validating a model specification and its data. PURE: no tfjs here, so the API can
// reject a bad request before it is queued. Defaults and allowed values come from the TypeBox schema
// (src/schemas/model-spec.ts); messages are user-facing and name the offending field.
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import {
  ActivationName,
  InitMethod,
  MAX_SEED,
  ModelRequest,
  OptimizerName,
  Placement,
  SPEC_LIMITS,
  TaskName,
  TrainingOptions,
  VarianceEstimator,
  type ModelSpec,
  type ResolvedTraining,
  type TrainingOptions as TrainingOptionsType,
  type ModelRequest as ModelRequestType,
} from '../schemas/model-spec.js';
import type { DatasetPart } from '../schemas/dataset.js';
import { BnStatistics, EarlyStopping, type ResolvedEarlyStopping } from '../schemas/training-extras.js';
import { DatasetError } from '../datasets/errors.js';
import { checkLabelsForTask, checkPartValues } from '../datasets/validate.js';
import { IssueList } from '../util/field-error.js';
import { SpecError } from './errors.js';

const ACTIVATIONS = ActivationName.enum;
const TASKS = TaskName.enum;
const PLACEMENTS = Placement.enum;
const ESTIMATORS = VarianceEstimator.enum;
const INIT_METHODS = InitMethod.enum;
const OPTIMIZERS = OptimizerName.enum;
const SCHEDULES = TrainingOptions.properties.learningRateSchedule.properties.type.enum;
const MONITORS = EarlyStopping.properties.monitor.enum;
const BN_STATISTICS = BnStatistics.enum;

export interface Dims {
  inputDim: number;
  outputDim: number;
}

/** A fresh random seed; recorded in the resolved options so the run can be reproduced. */
export function randomSeed(): number {
  return Math.floor(Math.random() * MAX_SEED);
}

/** The request with every schema default filled in (a copy: the request is not touched). */
function withDefaults<T>(schema: TSchema, value: T): T {
  return Value.Default(schema, structuredClone(value ?? {})) as T;
}

/**
 * Fills every default of the model request. `trainingSeed` is the resolved training seed, which
 * weightInit.seed defaults to (a random seed when neither is given).
 */
export function resolveSpec(model: ModelRequestType, dims: Dims, trainingSeed?: number): ModelSpec {
  const m = withDefaults(ModelRequest, model) as Required<ModelRequestType>;
  const bn = m.batchNorm as Required<NonNullable<ModelRequestType['batchNorm']>>;
  const wi = m.weightInit as NonNullable<ModelRequestType['weightInit']>;
  return {
    inputDim: dims.inputDim,
    outputDim: dims.outputDim,
    hidden: [...m.hidden],
    activation: m.activation,
    task: m.task,
    batchNorm: {
      enabled: bn.enabled,
      placement: bn.placement,
      momentum: bn.momentum,
      epsilon: bn.epsilon,
      varianceEstimator: bn.varianceEstimator,
    },
    weightInit: {
      method: wi.method as ModelSpec['weightInit']['method'],
      min: wi.min as number,
      max: wi.max as number,
      seed: wi.seed ?? trainingSeed ?? randomSeed(),
    },
  };
}

export function resolveTraining(opts: TrainingOptionsType = {}): ResolvedTraining {
  const t = withDefaults(TrainingOptions, opts) as Required<TrainingOptionsType>;
  const keep = t.checkpoints as Required<NonNullable<TrainingOptionsType['checkpoints']>>;
  const schedule = t.learningRateSchedule as ResolvedTraining['learningRateSchedule'];
  const stop = t.earlyStopping && (withDefaults(EarlyStopping, t.earlyStopping) as ResolvedEarlyStopping);
  return {
    epochs: t.epochs,
    batchSize: t.batchSize,
    optimizer: t.optimizer,
    learningRate: t.learningRate,
    validationSplit: t.validationSplit,
    shuffle: t.shuffle,
    seed: t.seed ?? randomSeed(),
    progressEveryBatches: t.progressEveryBatches,
    checkpoints: { keepLast: keep.keepLast, keepBest: keep.keepBest },
    learningRateSchedule: {
      type: schedule.type,
      stepEpochs: schedule.stepEpochs,
      factor: schedule.factor,
      minLearningRate: schedule.minLearningRate,
      warmupEpochs: schedule.warmupEpochs,
    },
    ...(stop && { earlyStopping: { monitor: stop.monitor, patience: stop.patience, minDelta: stop.minDelta } }),
    bnStatistics: t.bnStatistics,
  };
}

/** Weights of the resolved network: kernels, biases or BN gamma/beta, and BN moving statistics. */
export function parameterCount(spec: Pick<ModelSpec, 'inputDim' | 'outputDim' | 'hidden' | 'batchNorm'>): number {
  let total = 0;
  let inputs = spec.inputDim;
  for (const units of spec.hidden) {
    total += inputs * units + units; // kernel + (bias or beta)
    if (spec.batchNorm.enabled) total += 3 * units; // gamma, moving mean, moving variance
    inputs = units;
  }
  return total + inputs * spec.outputDim + spec.outputDim;
}

/** binary and regression: 1 output; multiclass: max label + 1 classes, at least 2. */
export function outputDimFor(task: TaskName, labels: ArrayLike<number>): number {
  if (task !== 'multiclass') return 1;
  let max = -1;
  for (let i = 0; i < labels.length; i++) if (Number.isFinite(labels[i]) && labels[i] > max) max = labels[i];
  return Math.max(2, Math.floor(max) + 1);
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function describe(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (v === undefined) return 'nothing';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): void {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new SpecError(field, `must be one of ${allowed.join(', ')} (got ${describe(value)})`);
  }
}

function intIn(field: string, value: unknown, min: number, max: number): void {
  if (!isInt(value)) throw new SpecError(field, `must be an integer (got ${describe(value)})`);
  if (value < min) throw new SpecError(field, min === 1 ? 'must be > 0' : `must be >= ${min}`);
  if (value > max) throw new SpecError(field, `must be <= ${max} (got ${value})`);
}

/** Throws SpecError naming the first invalid field of a resolved specification. */
export function validateSpec(spec: ModelSpec): void {
  intIn('model.inputDim', spec.inputDim, 1, SPEC_LIMITS.maxFeatures);
  oneOf('model.task', spec.task, TASKS);
  oneOf('model.activation', spec.activation, ACTIVATIONS);
  if (!Array.isArray(spec.hidden) || spec.hidden.length === 0) {
    throw new SpecError('model.hidden', 'must list at least one hidden layer');
  }
  if (spec.hidden.length > SPEC_LIMITS.maxLayers) {
    throw new SpecError('model.hidden', `must have at most ${SPEC_LIMITS.maxLayers} layers (got ${spec.hidden.length})`);
  }
  spec.hidden.forEach((units, i) => intIn(`model.hidden[${i}]`, units, 1, SPEC_LIMITS.maxUnits));
  if (spec.task === 'multiclass') intIn('model.outputDim', spec.outputDim, 2, SPEC_LIMITS.maxClasses);
  else if (spec.outputDim !== 1) {
    throw new SpecError('model.outputDim', `must be 1 for task ${spec.task} (got ${describe(spec.outputDim)})`);
  }

  const bn = spec.batchNorm;
  if (typeof bn?.enabled !== 'boolean') throw new SpecError('model.batchNorm.enabled', 'must be true or false');
  oneOf('model.batchNorm.placement', bn.placement, PLACEMENTS);
  oneOf('model.batchNorm.varianceEstimator', bn.varianceEstimator, ESTIMATORS);
  if (!isFiniteNumber(bn.momentum) || bn.momentum < 0 || bn.momentum >= 1) {
    throw new SpecError('model.batchNorm.momentum', `must be in [0, 1) (got ${describe(bn.momentum)})`);
  }
  if (!isFiniteNumber(bn.epsilon) || bn.epsilon <= 0) {
    throw new SpecError('model.batchNorm.epsilon', `must be > 0 (got ${describe(bn.epsilon)})`);
  }
  if (bn.epsilon > 1) throw new SpecError('model.batchNorm.epsilon', `must be <= 1 (got ${bn.epsilon})`);

  const wi = spec.weightInit;
  oneOf('model.weightInit.method', wi?.method, INIT_METHODS);
  if (!isFiniteNumber(wi.min)) throw new SpecError('model.weightInit.min', `must be a finite number (got ${describe(wi.min)})`);
  if (!isFiniteNumber(wi.max)) throw new SpecError('model.weightInit.max', `must be a finite number (got ${describe(wi.max)})`);
  if (wi.method === 'uniform' && wi.min >= wi.max) {
    throw new SpecError('model.weightInit.min', `must be < model.weightInit.max (got min ${wi.min}, max ${wi.max})`);
  }
  intIn('model.weightInit.seed', wi.seed, 0, MAX_SEED);
}

/** Throws SpecError naming the first invalid resolved training option (FieldErrors for several of the schedule, early stopping and BN statistics). */
export function validateTraining(t: ResolvedTraining, spec?: Pick<ModelSpec, 'batchNorm'>): void {
  intIn('training.epochs', t.epochs, 1, SPEC_LIMITS.maxEpochs);
  intIn('training.batchSize', t.batchSize, 1, SPEC_LIMITS.maxBatchSize);
  if (spec?.batchNorm.enabled && t.batchSize < 2) {
    throw new SpecError(
      'training.batchSize',
      'must be >= 2 with batchNorm enabled: a batch of one row has no variance to normalise with',
    );
  }
  oneOf('training.optimizer', t.optimizer, OPTIMIZERS);
  if (!isFiniteNumber(t.learningRate) || t.learningRate <= 0) {
    throw new SpecError('training.learningRate', `must be > 0 (got ${describe(t.learningRate)})`);
  }
  if (!isFiniteNumber(t.validationSplit) || t.validationSplit < 0 || t.validationSplit > 0.9) {
    throw new SpecError('training.validationSplit', `must be in [0, 0.9] (got ${describe(t.validationSplit)})`);
  }
  if (typeof t.shuffle !== 'boolean') throw new SpecError('training.shuffle', 'must be true or false');
  intIn('training.seed', t.seed, 0, MAX_SEED);
  intIn('training.progressEveryBatches', t.progressEveryBatches, 0, 1_000_000);
  intIn('training.checkpoints.keepLast', t.checkpoints?.keepLast, 1, Number.MAX_SAFE_INTEGER);
  intIn('training.checkpoints.keepBest', t.checkpoints?.keepBest, 0, Number.MAX_SAFE_INTEGER);

  // The options of the schedule, early stopping and BN statistics are reported together (a submission
  // names every field at fault); each check throws its first problem.
  const issues = new IssueList();
  const s = t.learningRateSchedule;
  const e = t.earlyStopping;
  const checks: (() => void)[] = [
    () => oneOf('training.learningRateSchedule.type', s?.type, SCHEDULES),
    () => {
      intIn('training.learningRateSchedule.warmupEpochs', s?.warmupEpochs, 0, 10_000);
      if (s.warmupEpochs >= t.epochs) {
        throw new SpecError(
          'training.learningRateSchedule.warmupEpochs',
          `must be fewer than training.epochs (${t.epochs}), so that the schedule runs after the warm-up (got ${s.warmupEpochs})`,
        );
      }
    },
    () => intIn('training.learningRateSchedule.stepEpochs', s?.stepEpochs, 1, 10_000),
    () => {
      if (!isFiniteNumber(s?.factor) || s.factor <= 0 || s.factor > 1) {
        throw new SpecError('training.learningRateSchedule.factor', `must be in (0, 1] (got ${describe(s?.factor)})`);
      }
    },
    () => {
      if (!isFiniteNumber(s?.minLearningRate) || s.minLearningRate < 0 || s.minLearningRate > t.learningRate) {
        throw new SpecError(
          'training.learningRateSchedule.minLearningRate',
          `must be in [0, training.learningRate = ${t.learningRate}] (got ${describe(s?.minLearningRate)})`,
        );
      }
    },
    () => e !== undefined && oneOf('training.earlyStopping.monitor', e.monitor, MONITORS),
    () => e !== undefined && intIn('training.earlyStopping.patience', e.patience, 1, 10_000),
    () => {
      if (e !== undefined && (!isFiniteNumber(e.minDelta) || e.minDelta < 0)) {
        throw new SpecError('training.earlyStopping.minDelta', `must be a number >= 0 (got ${describe(e.minDelta)})`);
      }
    },
    () => oneOf('training.bnStatistics', t.bnStatistics, BN_STATISTICS),
  ];
  for (const check of checks) issues.collect(check);
  issues.throwIfAny();
}

/**
 * Throws SpecError naming the first problem of a part the model is to train on: no rows, the wrong number
 * of features, values that are not finite, labels the task cannot take. `prefix` names the part
 * ('data', 'validation', 'dataset').
 */
export function validateData(spec: Pick<ModelSpec, 'inputDim' | 'outputDim' | 'task'>, data: DatasetPart, prefix = 'data'): void {
  if (!data || data.rows === 0) throw new SpecError(`${prefix}.features`, 'must contain at least one row');
  if (data.features !== spec.inputDim) {
    throw new SpecError(`${prefix}.features`, `has ${data.features} values per row, expected ${spec.inputDim} (the model's inputDim)`);
  }
  try {
    checkPartValues(data, prefix);
    checkLabelsForTask(data.y, spec.task, spec.outputDim, `${prefix}.labels`);
  } catch (err) {
    if (err instanceof DatasetError) throw new SpecError(err.field, err.detail);
    throw err;
  }
}

