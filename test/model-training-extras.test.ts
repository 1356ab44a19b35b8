// Learning-rate schedules (against PyTorch's schedulers), early stopping (Keras' rule, replayed from the
// history), and precise BN statistics (against each BN layer's input over the training rows by hand),
// unit by unit and through real training runs on every engine.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { learningRateAt } from '../src/model/lr-schedule.js';
import { earlyStoppingState, stoppedEarly } from '../src/model/early-stopping.js';
import { initBackend } from '../src/model/backend.js';
import { createNetwork, disposeNetwork, namedVariables } from '../src/model/network.js';
import { pack } from '../src/model/data.js';
import { recomputeBnStatistics } from '../src/model/precise-bn.js';
import { snapshot, toLayers } from '../src/model/checkpoint-format.js';
import { resolveSpec, resolveTraining, validateTraining } from '../src/model/spec.js';
import { configureTrainEngine } from '../src/model/train-step.js';
import { runEnded, train } from '../src/model/trainer.js';
import { toDocument } from '../src/checkpoint/document.js';
import type { Checkpoint } from '../src/checkpoint/checkpoint.js';
import { createDirectEngine } from '../src/inference/index.js';
import type { BatchNormLayer, CheckpointLayer, EpochMetrics } from '../src/schemas/checkpoint.js';
import type { ModelRequest, ResolvedTraining, TrainingOptions } from '../src/schemas/model-spec.js';
import type { ResolvedLearningRateSchedule } from '../src/schemas/training-extras.js';
import type { SavedCheckpoint } from '../src/model/types.js';
import { columnStats, maxAbsDiff, predictByHand, randomMatrix, toPart } from './model-helpers.js';

before(async () => {
  await initBackend('wasm');
});
after(async () => {
  configureTrainEngine({ engine: 'auto' });
  await tf.setBackend('wasm');
});

// ---------------------------------------------------------------------------------------------------
// Learning-rate schedules

const schedule = (s: Partial<ResolvedLearningRateSchedule>): ResolvedLearningRateSchedule => ({
  ...resolveTraining({ seed: 1 }).learningRateSchedule,
  ...s,
});
const rates = (s: ResolvedLearningRateSchedule, base: number, epochs: number) =>
  Array.from({ length: epochs }, (_, i) => learningRateAt(s, base, i + 1, epochs));

function assertRates(got: number[], want: number[], what: string): void {
  assert.equal(got.length, want.length, what);
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-12 * want[i], `${what}, epoch ${i + 1}: ${v} vs ${want[i]}`));
}

test('the default schedule is constant: the base rate every epoch', () => {
  assert.deepEqual(rates(schedule({}), 0.01, 4), [0.01, 0.01, 0.01, 0.01]);
});

// The expected rates are what PyTorch 1.13's schedulers give, read from optimizer.param_groups[0]['lr'] before
// each epoch's scheduler.step(), e.g. for the last one:
//   warm = LinearLR(opt, start_factor=1/3, end_factor=1, total_iters=2)
//   SequentialLR(opt, [warm, CosineAnnealingLR(opt, T_max=5, eta_min=0.01)], milestones=[3])   (lr 0.2, 8 epochs)
test("schedules give PyTorch's rates: StepLR, CosineAnnealingLR, and either after a LinearLR warm-up (SequentialLR)", () => {
  assertRates(rates(schedule({ type: 'step', stepEpochs: 2, factor: 0.5 }), 0.1, 6), [0.1, 0.1, 0.05, 0.05, 0.025, 0.025], 'StepLR(step_size=2, gamma=0.5)');
  assertRates(
    rates(schedule({ type: 'cosine', minLearningRate: 0.001 }), 0.1, 4),
    [0.1, 0.0855017856687341, 0.0505, 0.0154982143312659],
    'CosineAnnealingLR(T_max=4, eta_min=0.001)',
  );
  assertRates(
    rates(schedule({ type: 'step', stepEpochs: 2, factor: 0.5, warmupEpochs: 3 }), 0.2, 8),
    [0.06666666666666667, 0.13333333333333333, 0.2, 0.2, 0.2, 0.1, 0.1, 0.05],
    'LinearLR warm-up, then StepLR',
  );
  assertRates(
    rates(schedule({ type: 'cosine', minLearningRate: 0.01, warmupEpochs: 3 }), 0.2, 8),
    [0.06666666666666667, 0.13333333333333333, 0.2, 0.2, 0.18185661446562001, 0.13435661446562, 0.07564338553437999, 0.02814338553438],
    'LinearLR warm-up, then CosineAnnealingLR',
  );
});

test('schedule options a job cannot run are refused, naming the field', () => {
  const refused = (opts: TrainingOptions, field: string, message: RegExp) =>
    assert.throws(() => validateTraining(resolveTraining({ seed: 1, ...opts })), (err: Error & { field?: string }) => {
      assert.equal(err.field, field);
      assert.match(err.message, message);
      return true;
    });
  refused({ epochs: 5, learningRateSchedule: { warmupEpochs: 5 } }, 'training.learningRateSchedule.warmupEpochs', /fewer than training\.epochs \(5\)/);
  refused({ learningRateSchedule: { type: 'step', factor: 1.5 } }, 'training.learningRateSchedule.factor', /\(0, 1\]/);
  refused({ learningRate: 0.01, learningRateSchedule: { type: 'cosine', minLearningRate: 0.1 } }, 'training.learningRateSchedule.minLearningRate', /0\.01/);
  assert.doesNotThrow(() => validateTraining(resolveTraining({ seed: 1, epochs: 5, learningRateSchedule: { warmupEpochs: 4, type: 'step', factor: 1 } })));
});

// ---------------------------------------------------------------------------------------------------
// Early stopping

const epochs = (...losses: (number | undefined)[]): EpochMetrics[] =>
  losses.map((valLoss, i) => ({ epoch: i + 1, loss: 1, valLoss, samplesPerSecond: 1, durationMs: 1 }));

test("early stopping stops after patience epochs without a decrease larger than minDelta (Keras' rule)", () => {
  const rule = { monitor: 'valLoss' as const, patience: 2, minDelta: 0.01 };
  assert.equal(earlyStoppingState(rule, epochs(1, 0.9, 0.8)).stop, false);
  // 0.895 is lower than 0.9 but by less than minDelta: no improvement for patience, yet it is the best epoch
  const s = earlyStoppingState(rule, epochs(1, 0.9, 0.895, 0.899));
  assert.deepEqual(s, { best: 0.895, bestEpoch: 3, reference: 0.9, wait: 2, stop: true });
  // an improvement resets the count
  assert.equal(earlyStoppingState(rule, epochs(1, 0.9, 0.95, 0.5, 0.6)).stop, false);
  assert.deepEqual(stoppedEarly(rule, epochs(1, 0.9, 0.895, 0.899), 10), { epoch: 4, bestEpoch: 3, monitor: 'valLoss', best: 0.895 });
  // every planned epoch trained: nothing stopped early, whatever the rule says
  assert.equal(stoppedEarly(rule, epochs(1, 0.9, 0.895, 0.899), 4), undefined);
  assert.equal(stoppedEarly(undefined, epochs(1, 0.9), 10), undefined);
});

test('early stopping on the training loss; equal values: the later epoch is the best, as retention ranks them; a missing value is no improvement', () => {
  const rule = { monitor: 'loss' as const, patience: 1, minDelta: 0 };
  const h: EpochMetrics[] = [
    { epoch: 1, loss: 0.5, samplesPerSecond: 1, durationMs: 1 },
    { epoch: 2, loss: 0.5, samplesPerSecond: 1, durationMs: 1 },
  ];
  assert.deepEqual(earlyStoppingState(rule, h), { best: 0.5, bestEpoch: 2, reference: 0.5, wait: 1, stop: true });
  const v = earlyStoppingState({ monitor: 'valLoss', patience: 3, minDelta: 0 }, epochs(undefined, Number.NaN, 0.4));
  assert.deepEqual(v, { best: 0.4, bestEpoch: 3, reference: 0.4, wait: 0, stop: false });
});

test('a run has ended at its last planned epoch, where early stopping decided so, or at a checkpoint with precise statistics', () => {
  const training = resolveTraining({ seed: 1, epochs: 10, earlyStopping: { patience: 2 } });
  const h = epochs(1, 0.9, 0.95, 0.97);
  assert.equal(runEnded(training, { epoch: 3 }, h.slice(0, 3)), false);
  assert.equal(runEnded(training, { epoch: 4 }, h), true);
  assert.equal(runEnded({ ...training, earlyStopping: undefined }, { epoch: 4 }, h), false);
  assert.equal(runEnded({ ...training, earlyStopping: undefined }, { epoch: 4, bnStatistics: 'precise' }, h), true);
  assert.equal(runEnded({ ...training, earlyStopping: undefined }, { epoch: 10 }, []), true);
});

// ---------------------------------------------------------------------------------------------------
// Precise BN statistics by hand

/**
 * Every BN layer's input over all rows, by hand in float64, each BN below measured first and frozen with
 * its statistics as the model keeps them (the variance times n/(n-1) with the unbiased estimator).
 */
function preciseByHand(layers: readonly CheckpointLayer[], rows: number[][], unbiased: boolean): { mean: number[]; variance: number[] }[] {
  const out: { mean: number[]; variance: number[] }[] = [];
  let acts = rows.map((r) => [...r]);
  for (const l of layers) {
    if (l.type === 'dense') {
      const units = l.kernel[0].length;
      acts = acts.map((a) =>
        Array.from({ length: units }, (_, j) => a.reduce((s, v, i) => s + v * l.kernel[i][j], l.bias ? l.bias[j] : 0)),
      );
    } else if (l.type === 'batchNorm') {
      const { mean, variance: biased } = columnStats(acts);
      const variance = biased.map((v) => (unbiased ? (v * acts.length) / (acts.length - 1) : v));
      out.push({ mean, variance });
      acts = acts.map((a) => a.map((h, j) => (l.gamma[j] * (h - mean[j])) / Math.sqrt(variance[j] + l.epsilon) + l.beta[j]));
    } else if (l.fn === 'relu') acts = acts.map((a) => a.map((v) => Math.max(0, v)));
    else if (l.fn === 'tanh') acts = acts.map((a) => a.map(Math.tanh));
  }
  return out;
}

/** The checkpoint's statistics against the hand computation over `rows` with its own weights. */
function assertPrecise(doc: { layers: CheckpointLayer[] }, rows: number[][], unbiased: boolean, what: string): void {
  const want = preciseByHand(doc.layers, rows, unbiased);
  const stats = doc.layers.filter((l): l is BatchNormLayer => l.type === 'batchNorm');
  assert.equal(stats.length, want.length);
  stats.forEach((l, k) => {
    const w = want[k];
    for (let j = 0; j < w.mean.length; j++) {
      const scale = Math.sqrt(w.variance[j]) + 1e-3;
      assert.ok(Math.abs(l.movingMean[j] - w.mean[j]) <= 1e-4 * scale, `${what}: layer ${k} unit ${j} mean ${l.movingMean[j]} vs ${w.mean[j]}`);
      const v = w.variance[j];
      assert.ok(Math.abs(l.movingVariance[j] - v) <= 1e-4 * v + 1e-9, `${what}: layer ${k} unit ${j} variance ${l.movingVariance[j]} vs ${v}`);
    }
  });
}

for (const placement of ['before-activation', 'after-activation'] as const) {
  for (const varianceEstimator of ['biased', 'unbiased'] as const) {
    test(`precise BN statistics (${placement}, ${varianceEstimator}) equal each BN input's mean and variance over the rows, layers below frozen`, async () => {
      const spec = resolveSpec(
        { hidden: [7, 5, 3], task: 'binary', activation: 'tanh', batchNorm: { placement, varianceEstimator, epsilon: 1e-3 } },
        { inputDim: 4, outputDim: 1 },
        11,
      );
      // 9,000 rows: three chunks, the last one partial; inputs far from the initial statistics 0 / 1
      const data = randomMatrix(5, 9_000, 4, (x) => (x[0] > 0 ? 1 : 0));
      data.features = data.features.map((r) => r.map((v, j) => 3 * v + j));
      const net = createNetwork(spec);
      try {
        // non-trivial gamma and beta, so that the layers below really change what each layer sees
        for (const l of net.hidden) {
          l.bn!.gamma.assign(tf.tensor1d(Array.from({ length: l.units }, (_, j) => 0.5 + 0.25 * j)));
          l.bn!.beta.assign(tf.tensor1d(Array.from({ length: l.units }, (_, j) => 0.1 * j - 0.2)));
        }
        let chunks = 0;
        const got = await recomputeBnStatistics(net, pack(toPart(data), 'binary'), async () => void chunks++);
        assert.equal(chunks, 3 * 3, 'three chunks per BN layer');
        assert.equal(got.length, 3);
        // The network holds them now (as float32); by hand from its kernels, gamma and beta, its moving statistics ignored.
        const doc = toDocument({ layers: toLayers(net, await snapshot(namedVariables(net))) } as Checkpoint);
        assertPrecise(doc, data.features, varianceEstimator === 'unbiased', 'recomputed');
        doc.layers
          .filter((l): l is BatchNormLayer => l.type === 'batchNorm')
          .forEach((l, k) => {
            assert.deepEqual(l.movingMean, Array.from(Float32Array.from(got[k].mean)));
            assert.deepEqual(l.movingVariance, Array.from(Float32Array.from(got[k].variance)));
          });
      } finally {
        disposeNetwork(net);
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// Through real training runs

const flat = (s: SavedCheckpoint, keep: (name: string) => boolean = () => true) =>
  s.checkpoint.layers.flatMap((l) =>
    l.type === 'dense'
      ? [...l.kernel, ...(l.bias ?? [])]
      : l.type === 'batchNorm'
        ? [...(keep('gamma') ? l.gamma : []), ...(keep('beta') ? l.beta : []), ...(keep('moving') ? [...l.movingMean, ...l.movingVariance] : [])]
        : [],
  );

test('every engine trains each epoch at its scheduled rate (the history holds the rates, the weights follow them) and ends with the same precise statistics', async () => {
  const data = toPart(randomMatrix(3, 120, 5, (x) => +(x[0] - x[3] > 0)));
  const model: ModelRequest = { hidden: [12, 6], task: 'binary' };
  const base = resolveTraining({ epochs: 5, batchSize: 32, seed: 9, optimizer: 'momentum', learningRate: 0.05, validationSplit: 0 });
  const scheduled: ResolvedTraining = {
    ...base,
    learningRateSchedule: { ...base.learningRateSchedule, type: 'step', stepEpochs: 1, factor: 0.5, warmupEpochs: 1 },
    bnStatistics: 'precise',
  };
  const spec = resolveSpec(model, { inputDim: 5, outputDim: 1 }, base.seed);
  const want = rates(scheduled.learningRateSchedule, 0.05, 5);
  assert.deepEqual(want, [0.05, 0.05, 0.025, 0.0125, 0.00625]);

  const run = async (engine: 'loops' | 'onnx' | 'tensor-ops', training = scheduled) => {
    await tf.setBackend(engine === 'tensor-ops' ? 'cpu' : 'wasm');
    configureTrainEngine({ engine });
    return train({ modelId: 'lr', spec, training, data });
  };
  const reference = await run('loops');
  const constant = flat((await run('loops', base)).last);
  assert.ok(maxAbsDiff(flat(reference.last), constant) > 1e-3, 'a scheduled run ends elsewhere than a constant one');
  for (const engine of ['loops', 'onnx', 'tensor-ops'] as const) {
    const res = engine === 'loops' ? reference : await run(engine);
    assert.deepEqual(res.history.map((h) => h.learningRate), want, `${engine}: the rate of every epoch`);
    assert.deepEqual(res.last.checkpoint.metrics.learningRate, want[4]);
    assert.equal(res.last.checkpoint.bnStatistics, 'precise');
    const diff = maxAbsDiff(flat(res.last), flat(reference.last));
    assert.ok(diff <= 1e-5, `${engine}: parameters differ from the loop engine's by ${diff}`);
  }
});

/** A problem whose validation loss bottoms out early: few rows, noisy labels, a high rate. */
function noisyProblem() {
  const data = toPart(randomMatrix(17, 240, 6, (x, i) => (i % 5 === 0 ? +(x[0] < 0) : +(x[0] + 0.5 * x[1] > 0))));
  const model: ModelRequest = { hidden: [32, 16], task: 'binary', batchNorm: { varianceEstimator: 'unbiased' } };
  const training = resolveTraining({
    epochs: 60,
    batchSize: 16,
    seed: 5,
    learningRate: 0.005,
    validationSplit: 0.25,
    earlyStopping: { monitor: 'valLoss', patience: 4, minDelta: 0.001 },
    bnStatistics: 'precise',
  });
  return { data, training, spec: resolveSpec(model, { inputDim: 6, outputDim: 1 }, training.seed) };
}

test('early stopping ends a run at the epoch its history decides, the last checkpoint gets precise statistics, and a resume decides the same', async () => {
  await tf.setBackend('wasm');
  configureTrainEngine({ engine: 'loops' });
  const { data, training, spec } = noisyProblem();
  const saved: SavedCheckpoint[] = [];
  const straight = await train({ modelId: 'es', spec, training, data, onCheckpoint: (s) => void saved.push(structuredClone(s)) });
  const stop = straight.stoppedEarly;
  assert.ok(stop, 'the run stopped early');
  assert.ok(stop.epoch < training.epochs && stop.epoch >= 6, `stopped at ${stop.epoch}`);
  assert.equal(straight.epochs, stop.epoch);
  assert.deepEqual(straight.history.map((h) => h.epoch), Array.from({ length: stop.epoch }, (_, i) => i + 1));
  // The decision replays from the history: patience epochs without a decrease by minDelta.
  const rule = training.earlyStopping!;
  assert.equal(earlyStoppingState(rule, straight.history.slice(0, -1)).stop, false);
  assert.equal(earlyStoppingState(rule, saved.slice(0, -1).map((s) => s.checkpoint.metrics)).stop, false);
  assert.deepEqual(stoppedEarly(rule, straight.history, training.epochs), stop);
  const lowest = Math.min(...straight.history.map((h) => h.valLoss!));
  assert.equal(stop.best, lowest);
  assert.equal(straight.history[stop.bestEpoch - 1].valLoss, lowest);
  // Only the last checkpoint holds precise statistics, and says so.
  assert.deepEqual(saved.map((s) => s.checkpoint.bnStatistics), [...Array(stop.epoch - 1).fill('ema'), 'precise']);

  // Resumed from a checkpoint before the stop, with the history so far: the same stop, bit for bit.
  const at = 3;
  const resumed = await train({
    modelId: 'es',
    spec,
    training,
    data,
    resume: { checkpoint: saved[at - 1].checkpoint, state: saved[at - 1].state, history: straight.history.slice(0, at) },
  });
  assert.deepEqual(resumed.stoppedEarly, stop);
  const trained = (h: EpochMetrics[]) => h.map(({ epoch, loss, valLoss, accuracy, valAccuracy, learningRate }) => ({ epoch, loss, valLoss, accuracy, valAccuracy, learningRate }));
  assert.deepEqual(trained(resumed.history), trained(straight.history.slice(at)));
  assert.deepEqual(flat(resumed.last), flat(straight.last));
  // A resume from the last checkpoint has nothing left to train.
  const last = saved.at(-1)!;
  await assert.rejects(
    train({ modelId: 'es', spec, training, data, resume: { checkpoint: last.checkpoint, state: last.state, history: straight.history } }),
    /where the run ended/,
  );
});

test('precise statistics: the final checkpoint holds every BN input\'s population statistics over the training rows, its valLoss and predictions use them, and nothing else changes', async () => {
  await tf.setBackend('wasm');
  configureTrainEngine({ engine: 'loops' });
  const problem = randomMatrix(23, 500, 3, (x) => +(x[0] * x[1] > 0));
  problem.features = problem.features.map((r) => [r[0] * 4 + 1, r[1] - 3, r[2] * 0.1]);
  const data = toPart(problem);
  for (const varianceEstimator of ['biased', 'unbiased'] as const) {
    const opts: TrainingOptions = { epochs: 4, batchSize: 32, seed: 3, validationSplit: 0.2, bnStatistics: 'precise' };
    const training = resolveTraining(opts);
    const spec = resolveSpec({ hidden: [16, 8], task: 'binary', batchNorm: { varianceEstimator, momentum: 0.9 } }, { inputDim: 3, outputDim: 1 }, training.seed);
    const precise = await train({ modelId: 'p', spec, training, data });
    const ema = await train({ modelId: 'p', spec, training: { ...training, bnStatistics: 'ema' }, data });
    assert.equal(precise.last.checkpoint.bnStatistics, 'precise');
    assert.equal(ema.last.checkpoint.bnStatistics, 'ema');
    // The same weights, gamma and beta: only the statistics differ, and by more than rounding.
    assert.deepEqual(flat(precise.last, (n) => n !== 'moving'), flat(ema.last, (n) => n !== 'moving'));
    assert.ok(maxAbsDiff(flat(precise.last, (n) => n === 'moving'), flat(ema.last, (n) => n === 'moving')) > 1e-3, 'precise statistics differ from the moving averages');

    // By hand over the training rows (the first 400: the validation split holds out the last 100).
    const doc = toDocument(precise.last.checkpoint);
    assert.equal(doc.bnStatistics, 'precise');
    const trainRows = problem.features.slice(0, 400);
    assertPrecise(doc, trainRows, varianceEstimator === 'unbiased', varianceEstimator);

    // The epoch's validation metrics are the frozen network's with these statistics...
    const val = problem.features.slice(400);
    const labels = problem.labels.slice(400);
    const model = await createDirectEngine().load(precise.last.checkpoint);
    const y = await model.predict(val);
    const bce = -y.reduce((s, [p], i) => s + (labels[i] === 1 ? Math.log(p) : Math.log(1 - p)), 0) / val.length;
    const last = precise.history.at(-1)!;
    assert.ok(Math.abs(last.valLoss! - bce) <= 1e-4 * bce, `valLoss ${last.valLoss} vs ${bce} from the checkpoint`);
    const accuracy = y.filter(([p], i) => +(p > 0.5) === labels[i]).length / val.length;
    assert.ok(Math.abs(last.valAccuracy! - accuracy) <= 1 / val.length, `valAccuracy ${last.valAccuracy} vs ${accuracy}`);
    // ...and so are its predictions: the engine's output is the hand formula with the precise statistics.
    for (const x of val.slice(0, 5)) {
      const [got] = await model.predictOne(x);
      const [want] = predictByHand(doc.layers, x);
      assert.ok(Math.abs(got - want) <= 1e-6, `${got} vs ${want}`);
    }
  }
});
