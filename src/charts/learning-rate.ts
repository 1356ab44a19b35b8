// The learning rate of each epoch (training.learningRateSchedule: constant, step or cosine, with a
// warm-up) as a Vega-Lite specification, like training-curves.ts: plain data in, a spec out, the rows in
// the named dataset CHART_DATA so that a live chart swaps them without rebuilding the view.
import type { TopLevelSpec } from 'vega-lite';
import type { EpochMetrics } from '../schemas/checkpoint.js';
import { CHART_DATA, epochAxis, type CurveOptions } from './training-curves.js';

export interface RatePoint {
  epoch: number;
  learningRate: number;
}

/** One point per epoch that reports its rate (histories written before schedules have none). */
export function ratePoints(history: readonly EpochMetrics[]): RatePoint[] {
  return history.flatMap((m) =>
    typeof m.learningRate === 'number' && Number.isFinite(m.learningRate) ? [{ epoch: m.epoch, learningRate: m.learningRate }] : [],
  );
}

/** A step line (the rate holds for a whole epoch), a point per epoch, the value on hover. */
export function learningRateSpec(points: RatePoint[], options: CurveOptions = {}): TopLevelSpec {
  const maxEpoch = Math.max(options.epochs ?? 1, ...points.map((p) => p.epoch));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: 'Learning rate per epoch',
    title: 'Learning rate per epoch',
    width: options.width ?? 'container',
    height: options.height ?? 140,
    autosize: { type: 'fit-x', contains: 'padding' },
    datasets: { [CHART_DATA]: points as unknown as Record<string, unknown>[] },
    data: { name: CHART_DATA },
    mark: { type: 'line', point: true, interpolate: 'step-after' },
    encoding: {
      x: epochAxis(maxEpoch),
      y: { field: 'learningRate', type: 'quantitative', title: 'learning rate', scale: { zero: true }, axis: { format: '.2~e' } },
      tooltip: [
        { field: 'epoch', type: 'quantitative' },
        { field: 'learningRate', type: 'quantitative', title: 'learning rate', format: '.4~g' },
      ],
    },
  };
}
