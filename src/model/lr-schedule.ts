// The learning rate of each epoch: an optional linear warm-up, then constant, step decay or cosine
// annealing over the epochs that follow it. Stepped once per epoch, so the rate recorded in an epoch's
// metrics is the rate every batch of that epoch used; it is a function of the epoch alone, so a resumed
// job needs no schedule state.
import type { ResolvedLearningRateSchedule } from '../schemas/training-extras.js';

/**
 * The rate of `epoch` (1-based) of a job of `epochs` epochs whose base rate is `base`.
 * Warm-up epoch e of W runs at base * e / W (the last warm-up epoch at base). After it, with t counting
 * the epochs since the warm-up from 0 and T of them in all:
 *   constant  base
 *   step      base * factor^floor(t / stepEpochs)                          (PyTorch's StepLR)
 *   cosine    min + (base - min) * (1 + cos(pi * t / T)) / 2               (PyTorch's CosineAnnealingLR, T_max = T)
 * which is PyTorch's LinearLR(start_factor = 1/W, total_iters = W - 1) followed by the schedule in a
 * SequentialLR with the milestone at W.
 */
export function learningRateAt(schedule: ResolvedLearningRateSchedule, base: number, epoch: number, epochs: number): number {
  const warmup = Math.min(schedule.warmupEpochs, epochs);
  if (epoch <= warmup) return (base * epoch) / warmup;
  const t = epoch - warmup - 1;
  const total = epochs - warmup;
  switch (schedule.type) {
    case 'constant':
      return base;
    case 'step':
      return base * schedule.factor ** Math.floor(t / schedule.stepEpochs);
    case 'cosine': {
      const floor = Math.min(schedule.minLearningRate, base);
      return floor + ((base - floor) * (1 + Math.cos((Math.PI * t) / total))) / 2;
    }
  }
}
