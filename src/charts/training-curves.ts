// Loss and accuracy per epoch as Vega-Lite specifications: one source for the dashboard (rendered in the
// browser) and for reports rendered to SVG on the server. Plain data in, a spec out; no DOM, no Node APIs.
// The rows sit in a named dataset (CHART_DATA) so that a live chart can swap them without rebuilding the view.
import type { TopLevelSpec } from 'vega-lite';
import type { EpochMetrics } from '../schemas/checkpoint.js';

/** Name of the dataset every chart of this module reads its rows from. */
export const CHART_DATA = 'rows';

export type CurveMetric = 'loss' | 'accuracy';
export type Split = 'training' | 'validation';

/** One value of one curve: long format, as Vega-Lite wants it. */
export interface CurvePoint {
  epoch: number;
  split: Split;
  value: number;
  /** Set when several runs share one chart (an experiment's variants). */
  variant?: string;
}

const METRIC_FIELDS: Record<CurveMetric, Record<Split, keyof EpochMetrics>> = {
  loss: { training: 'loss', validation: 'valLoss' },
  accuracy: { training: 'accuracy', validation: 'valAccuracy' },
};

/**
 * The training and validation values of one metric, one point per epoch that has it. Training accuracy
 * is measured on the training batches with batch statistics; validation uses the frozen statistics.
 */
export function curvePoints(history: readonly EpochMetrics[], metric: CurveMetric, variant?: string): CurvePoint[] {
  const out: CurvePoint[] = [];
  for (const split of ['training', 'validation'] as const) {
    const field = METRIC_FIELDS[metric][split];
    for (const m of history) {
      const value = m[field];
      if (typeof value === 'number' && Number.isFinite(value)) {
        out.push({ epoch: m.epoch, split, value, ...(variant !== undefined && { variant }) });
      }
    }
  }
  return out;
}

export interface CurveOptions {
  /** The x axis runs to this epoch from the start, so that a live chart does not rescale as epochs arrive. */
  epochs?: number;
  /** Pixels; default: the container's width. */
  width?: number;
  height?: number;
}

const TITLES: Record<CurveMetric, { title: string; y: string }> = {
  loss: { title: 'Loss per epoch', y: 'loss' },
  accuracy: { title: 'Accuracy per epoch', y: 'accuracy' },
};

/** The x encoding every per-epoch chart shares: epochs 1..maxEpoch, whole numbers only. */
export function epochAxis(maxEpoch: number) {
  return {
    field: 'epoch',
    type: 'quantitative' as const,
    title: 'epoch',
    scale: { domain: [1, Math.max(2, maxEpoch)], nice: false },
    axis: { tickMinStep: 1, format: 'd' },
  };
}

/**
 * A line per split (and per variant when the points carry one: colour is the variant, the dash the
 * split), a point per epoch, the value on hover.
 */
export function curveSpec(points: CurvePoint[], metric: CurveMetric, options: CurveOptions = {}): TopLevelSpec {
  const overlay = points.some((p) => p.variant !== undefined);
  const maxEpoch = Math.max(options.epochs ?? 1, ...points.map((p) => p.epoch));
  const { title, y } = TITLES[metric];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: `${title}, training and validation`,
    title,
    width: options.width ?? 'container',
    height: options.height ?? 220,
    autosize: { type: 'fit-x', contains: 'padding' },
    datasets: { [CHART_DATA]: points as unknown as Record<string, unknown>[] },
    data: { name: CHART_DATA },
    mark: { type: 'line', point: true, interpolate: 'linear' },
    encoding: {
      x: epochAxis(maxEpoch),
      y: {
        field: 'value',
        type: 'quantitative',
        title: y,
        scale: metric === 'accuracy' ? { domain: [0, 1] } : { zero: false },
      },
      color: overlay
        ? { field: 'variant', type: 'nominal', title: 'variant' }
        : { field: 'split', type: 'nominal', title: null, sort: ['training', 'validation'] },
      ...(overlay && { strokeDash: { field: 'split', type: 'nominal', title: null, sort: ['training', 'validation'] } }),
      tooltip: [
        ...(overlay ? [{ field: 'variant', type: 'nominal' as const }] : []),
        { field: 'split', type: 'nominal' },
        { field: 'epoch', type: 'quantitative' },
        { field: 'value', type: 'quantitative', title: y, format: '.4~g' },
      ],
    },
  };
}
