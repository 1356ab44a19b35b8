// The training loop: mini-batches (train-step.ts), per-epoch metrics, checkpoints, resume, cancellation
// and divergence. The step owns the trained values between syncs; everything is disposed in finally.
// Callbacks: onStart once (the batches per epoch are known before the first one), onProgress every
// progressEveryBatches batches, onCheckpoint after every epoch with the epoch's checkpoint.
import * as tf from '@tensorflow/tfjs';
import { CHECKPOINT_FORMAT, TRAINING_STATE_FORMAT, type EpochMetrics, type TfjsModelJson, type TrainingState } from '../schemas/checkpoint.js';
import type { Checkpoint, CheckpointMeta } from '../checkpoint/checkpoint.js';
import type { ResolvedTraining, TaskName } from '../schemas/model-spec.js';
import { createPrng, deriveSeed } from '../util/prng.js';
import { initBackend } from './backend.js';
import { restoreVariables, snapshot, toLayers } from './checkpoint-format.js';
import { rowsTensor, split, type Packed } from './data.js';
import { SpecError, TrainingCancelledError, TrainingDivergedError } from './errors.js';
import { lossAndGrad } from './losses.js';
import { createNetwork, disposeNetwork, forwardInfer, namedVariables, type Network } from './network.js';
import { createOptimizer, restoreOptimizer, saveOptimizer, type Optimizer } from './optimizer.js';
import { earlyStoppingState, INITIAL_EARLY_STOPPING, nextEarlyStoppingState, stoppedEarly } from './early-stopping.js';
import { BnStatsTracker, probeOf } from './layer-stats.js';
import { learningRateAt } from './lr-schedule.js';
import { recomputeBnStatistics } from './precise-bn.js';
import { validateData, validateSpec, validateTraining } from './spec.js';
import { tfjsModelJson } from './tfjs-artifacts.js';
import { createTrainStep, type TrainStep } from './train-step.js';
import type { SavedCheckpoint, TrainArgs, TrainResult } from './types.js';

const EVAL_CHUNK = 4096;
/** Longest stretch without giving the event loop a turn (abort signals, IPC, lock renewals). */
const YIELD_EVERY_MS = 20;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Inference-mode loss and accuracy over all rows of `p`. */
function evaluate(net: Network, p: Packed, task: TaskName): { loss: number; accuracy?: number } {
  let lossSum = 0;
  let correct = 0;
  for (let from = 0; from < p.n; from += EVAL_CHUNK) {
    const to = Math.min(p.n, from + EVAL_CHUNK);
    const x = rowsTensor(p, from, to);
    let logits: Float32Array;
    try {
      logits = tf.tidy(() => forwardInfer(net, x).dataSync() as Float32Array);
    } finally {
      x.dispose();
    }
    const out = lossAndGrad(task, logits, p.y.subarray(from, to), to - from, net.spec.outputDim);
    lossSum += out.loss * (to - from);
    correct += out.correct;
  }
  return { loss: lossSum / p.n, accuracy: task === 'regression' ? undefined : correct / p.n };
}

interface Run {
  args: TrainArgs;
  net: Network;
  opt: Optimizer;
  vars: Map<string, tf.Variable>;
  tfjs: TfjsModelJson;
  backend: string;
  batches: number;
}

async function save(run: Run, epoch: number, metrics: EpochMetrics, bnStatistics: 'ema' | 'precise', stats: BnStatsTracker): Promise<SavedCheckpoint> {
  const { args, net } = run;
  const snap = await snapshot(run.vars);
  const checkpoint: Checkpoint = {
    format: CHECKPOINT_FORMAT,
    modelId: args.modelId,
    epoch,
    createdAt: new Date().toISOString(),
    backend: run.backend,
    spec: structuredClone(args.spec),
    training: structuredClone(args.training),
    metrics: { ...metrics },
    ...(args.spec.batchNorm.enabled && { bnStatistics }),
    layers: toLayers(net, snap),
  };
  const state: TrainingState = { format: TRAINING_STATE_FORMAT, modelId: args.modelId, epoch, optimizer: saveOptimizer(run.opt, net) };
  return { checkpoint, state, tfjs: run.tfjs, batches: run.batches, bnStats: stats.measure(epoch, checkpoint.layers) };
}

/** JSON with sorted keys: specs built by different code paths compare equal when their values do. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === 'object' && !Array.isArray(val)
      ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : val,
  );
}

/**
 * True when a run whose newest checkpoint is `checkpoint` (`history`: the metrics of its epochs) has
 * nothing left to train: every epoch is trained, early stopping decided so, or its BN statistics were made
 * precise, which only the last checkpoint of a run gets.
 */
export function runEnded(training: ResolvedTraining, checkpoint: Pick<CheckpointMeta, 'epoch' | 'bnStatistics'>, history: readonly EpochMetrics[]): boolean {
  if (checkpoint.epoch >= training.epochs || checkpoint.bnStatistics === 'precise') return true;
  return training.earlyStopping !== undefined && earlyStoppingState(training.earlyStopping, history).stop;
}

function checkArgs(args: TrainArgs): void {
  validateSpec(args.spec);
  validateTraining(args.training, args.spec);
  validateData(args.spec, args.data);
  if (args.validation) validateData(args.spec, args.validation, 'validation');
  const r = args.resume;
  if (r) {
    if (r.checkpoint.format !== CHECKPOINT_FORMAT) throw new SpecError('resume.checkpoint.format', `must be ${CHECKPOINT_FORMAT}`);
    if (r.state.format !== TRAINING_STATE_FORMAT) throw new SpecError('resume.state.format', `must be ${TRAINING_STATE_FORMAT}`);
    if (r.state.epoch !== r.checkpoint.epoch) {
      throw new SpecError('resume.state.epoch', `is ${r.state.epoch} but the checkpoint's epoch is ${r.checkpoint.epoch}`);
    }
    if (canonical(r.checkpoint.spec) !== canonical(args.spec)) {
      throw new SpecError('resume.checkpoint.spec', 'differs from the model specification being trained');
    }
    if (r.checkpoint.epoch >= args.training.epochs) {
      throw new SpecError('resume.checkpoint.epoch', `is ${r.checkpoint.epoch}, so all ${args.training.epochs} epochs are trained already`);
    }
    if (runEnded(args.training, r.checkpoint, r.history ?? [])) {
      throw new SpecError('resume.checkpoint.epoch', `is ${r.checkpoint.epoch}, where the run ended (early stopping, or its final BN statistics)`);
    }
  }
}

export async function train(args: TrainArgs): Promise<TrainResult> {
  checkArgs(args);
  const { backend } = await initBackend();
  const { spec, training } = args;
  const task = spec.task;
  const { train: rows, val } = split(args.data, args.validation, training.validationSplit, task);
  const stopRule = training.earlyStopping;
  if (stopRule?.monitor === 'valLoss' && !val) {
    throw new SpecError('training.earlyStopping.monitor', 'is valLoss, but the job has no validation rows: set training.validationSplit > 0, or monitor loss');
  }
  const tfjs = await tfjsModelJson(spec);
  // A last batch of one row has no variance: it would zero its BN output and pull the moving variance
  // toward 0, so it joins the batch before it.
  const nBatches = Math.max(1, Math.ceil(rows.n / training.batchSize) - (rows.n % training.batchSize === 1 && rows.n > 1 ? 1 : 0));

  const net = createNetwork(spec);
  const opt = createOptimizer(training);
  const run: Run = { args, net, opt, vars: namedVariables(net), tfjs, backend, batches: nBatches };
  let step: TrainStep | undefined;
  try {
    let startEpoch = 0;
    const history: EpochMetrics[] = [];
    const earlier = args.resume?.history ?? [];
    let stopState = stopRule ? earlyStoppingState(stopRule, earlier) : INITIAL_EARLY_STOPPING;
    let last: SavedCheckpoint | undefined;
    if (args.resume) {
      restoreVariables(run.vars, args.resume.checkpoint.layers);
      restoreOptimizer(opt, net, args.resume.state.optimizer);
      startEpoch = args.resume.checkpoint.epoch;
    }
    let lastSaved = startEpoch;
    const order = new Uint32Array(rows.n);
    // The same probe rows every epoch and every attempt; a resumed run measures its checkpoint again
    // (the drift of its next epoch needs it), a fresh one records epoch 0, the initialised network.
    const probe = probeOf(rows);
    const stats = new BnStatsTracker(probe);
    if (args.resume) stats.start(args.resume.checkpoint.layers);
    const initialStats = args.resume ? undefined : stats.measure(0, toLayers(net, await snapshot(run.vars)));
    step = createTrainStep(net, opt);
    if (args.onStart) {
      await args.onStart({ startEpoch, epochs: training.epochs, batches: nBatches, probeRows: probe.n, ...(initialStats && { bnStats: initialStats }) });
    }

    // Counted across epochs: a small network's epoch is shorter than YIELD_EVERY_MS, and onCheckpoint need
    // not give the loop a turn (a synchronous store does not), so a per-epoch count could starve it.
    let lastYield = performance.now();
    for (let epoch = startEpoch + 1; epoch <= training.epochs; epoch++) {
      const t0 = performance.now();
      // Read by every step of every engine, so the rate changes from this epoch's first batch on.
      opt.learningRate = learningRateAt(training.learningRateSchedule, training.learningRate, epoch, training.epochs);
      for (let i = 0; i < rows.n; i++) order[i] = i;
      if (training.shuffle) createPrng(deriveSeed(training.seed, epoch)).shuffle(order);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let b = 0; b < nBatches; b++) {
        if (args.signal?.aborted) throw new TrainingCancelledError(lastSaved);
        const idx = order.subarray(b * training.batchSize, b === nBatches - 1 ? rows.n : (b + 1) * training.batchSize);
        const stats = step.run(rows, idx);
        if (!Number.isFinite(stats.loss)) throw new TrainingDivergedError(epoch, b + 1, lastSaved);
        lossSum += stats.loss * idx.length;
        correct += stats.correct;
        seen += idx.length;
        const every = training.progressEveryBatches;
        if (every > 0 && (b + 1) % every === 0 && args.onProgress) {
          await args.onProgress({
            epoch,
            epochs: training.epochs,
            batch: b + 1,
            batches: nBatches,
            loss: lossSum / seen,
            accuracy: task === 'regression' ? undefined : correct / seen,
            samplesPerSecond: seen / ((performance.now() - t0) / 1000),
          });
        }
        if (performance.now() - lastYield > YIELD_EVERY_MS) {
          await yieldToLoop();
          lastYield = performance.now();
        }
      }
      const trainSeconds = (performance.now() - t0) / 1000;
      const metrics: EpochMetrics = { epoch, loss: lossSum / seen, samplesPerSecond: seen / trainSeconds, durationMs: 0, learningRate: opt.learningRate };
      if (task !== 'regression') metrics.accuracy = correct / seen;
      step.sync();
      const validate = () => {
        if (!val) return;
        const v = evaluate(net, val, task);
        metrics.valLoss = v.loss;
        if (v.accuracy !== undefined) metrics.valAccuracy = v.accuracy;
        // Finite training loss but infinite validation loss: the frozen statistics already give unusable
        // predictions, and a checkpoint of them would fail again on every retry.
        if (!Number.isFinite(v.loss)) {
          throw new TrainingDivergedError(epoch, nBatches, lastSaved, 'the validation loss (frozen statistics)');
        }
      };
      validate();
      if (stopRule) stopState = nextEarlyStoppingState(stopRule, stopState, metrics);
      // The run's last checkpoint gets the precise statistics, and its validation metrics are theirs.
      const precise = (epoch === training.epochs || stopState.stop) && training.bnStatistics === 'precise' && spec.batchNorm.enabled;
      if (precise) {
        await recomputeBnStatistics(net, rows, async () => {
          if (args.signal?.aborted) throw new TrainingCancelledError(lastSaved);
          await yieldToLoop();
          lastYield = performance.now();
        });
        validate();
      }
      metrics.durationMs = performance.now() - t0;
      history.push(metrics);
      last = await save(run, epoch, metrics, precise ? 'precise' : 'ema', stats);
      if (args.onCheckpoint) await args.onCheckpoint(last);
      lastSaved = epoch;
      if (stopState.stop) break;
    }
    // checkArgs refuses a resume with nothing left to train, so at least one epoch ran.
    const stopped = stoppedEarly(stopRule, [...earlier, ...history], training.epochs);
    return { epochs: lastSaved, history, last: last as SavedCheckpoint, backend, ...(stopped && { stoppedEarly: stopped }) };
  } finally {
    step?.dispose();
    disposeNetwork(net);
  }
}
