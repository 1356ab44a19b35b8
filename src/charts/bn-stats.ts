// What BN does, per epoch, as Vega-Lite specifications (the records of GET /v1/models/:id/bn-stats in,
// a spec out; no DOM, no Node APIs): the dashboard renders them in the browser, reports to SVG on the
// server. (a) bandSpec: one quantity of one layer over epochs, the p10-p90 band across units, the median
// line and thin min/max lines. (b) driftSpec: each layer's drift over epochs, median line in a p10-p90
// band, overlaying variants (an experiment's models with and without BN). Rows sit in CHART_DATA, as in
// training-curves.ts, so a live chart can swap them.
import type { TopLevelSpec } from 'vega-lite';
import type { BnStatsEpoch, LayerEpochStats, Quantiles } from '../schemas/bn-stats.js';
import { CHART_DATA } from './training-curves.js';

export { CHART_DATA };

/** The quantities a layer has per epoch: its pre-activation's (mean, std; every layer) and its BN layer's. */
export type BandQuantity = 'mean' | 'std' | 'gamma' | 'beta' | 'movingMean' | 'movingVariance';
export type DriftMeasure = 'meanDrift' | 'stdDrift';

/** One epoch's quantiles across a layer's units, wide: one row per epoch (and variant). */
export interface BandPoint {
  epoch: number;
  min: number;
  p10: number;
  median: number;
  p90: number;
  max: number;
  /** Set when several models share one chart. */
  variant?: string;
}

/** One epoch's drift of one layer. */
export interface DriftPoint {
  epoch: number;
  /** the label of the layer: "layer 0", ... */
  layer: string;
  p10: number;
  median: number;
  p90: number;
  variant?: string;
  /** variant and layer together: what one line and one band are drawn for */
  series: string;
}

export interface BnChartOptions {
  /** The x axis runs to this epoch from the start, so that a live chart does not rescale as epochs arrive. */
  epochs?: number;
  /** Pixels; default: the container's width. */
  width?: number;
  height?: number;
}

const LABELS: Record<BandQuantity | DriftMeasure, string> = {
  mean: 'mean of the pre-activation',
  std: 'std of the pre-activation',
  gamma: 'gamma',
  beta: 'beta',
  movingMean: 'moving mean',
  movingVariance: 'moving variance',
  meanDrift: 'mean drift (previous stds)',
  stdDrift: 'std drift (relative)',
};

const finite = (q: Quantiles | undefined): q is Quantiles => q !== undefined && q.every(Number.isFinite);

function layerOf(e: BnStatsEpoch, layer: number): LayerEpochStats | undefined {
  return e.layers.find((l) => l.layer === layer);
}

/** The quantiles of `quantity` of hidden layer `layer`, per epoch that has them (BN quantities: BN layers only). */
export function bandPoints(epochs: readonly BnStatsEpoch[], layer: number, quantity: BandQuantity, variant?: string): BandPoint[] {
  const out: BandPoint[] = [];
  for (const e of epochs) {
    const q = layerOf(e, layer)?.[quantity];
    if (!finite(q)) continue;
    const [min, p10, median, p90, max] = q;
    out.push({ epoch: e.epoch, min, p10, median, p90, max, ...(variant !== undefined && { variant }) });
  }
  return out;
}

/** Every layer's drift per epoch (from epoch 1: epoch 0 has none). */
export function driftPoints(epochs: readonly BnStatsEpoch[], measure: DriftMeasure = 'meanDrift', variant?: string): DriftPoint[] {
  const out: DriftPoint[] = [];
  for (const e of epochs) {
    for (const l of e.layers) {
      const q = l[measure];
      if (!finite(q)) continue;
      const layer = `layer ${l.layer}`;
      out.push({ epoch: e.epoch, layer, p10: q[1], median: q[2], p90: q[3], ...(variant !== undefined && { variant }), series: variant === undefined ? layer : `${variant}, ${layer}` });
    }
  }
  return out;
}

function frame(description: string, title: string, rows: object[], options: BnChartOptions) {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json' as const,
    description,
    title,
    width: options.width ?? ('container' as const),
    height: options.height ?? 220,
    autosize: { type: 'fit-x' as const, contains: 'padding' as const },
    datasets: { [CHART_DATA]: rows as unknown as Record<string, unknown>[] },
    data: { name: CHART_DATA },
  };
}

function epochAxis(points: readonly { epoch: number }[], options: BnChartOptions, first: number) {
  const maxEpoch = Math.max(options.epochs ?? first + 1, ...points.map((p) => p.epoch));
  return { field: 'epoch', type: 'quantitative' as const, title: 'epoch', scale: { domain: [first, Math.max(first + 1, maxEpoch)], nice: false }, axis: { tickMinStep: 1, format: 'd' } };
}

/**
 * One quantity of one layer over epochs: the p10-p90 band across its units, the median line, thin
 * dashed min and max lines; colour per variant when the points carry one.
 */
export function bandSpec(points: BandPoint[], quantity: BandQuantity, options: BnChartOptions & { layer?: number } = {}): TopLevelSpec {
  const overlay = points.some((p) => p.variant !== undefined);
  const x = epochAxis(points, options, 0);
  const label = LABELS[quantity];
  const title = options.layer === undefined ? `${label} per epoch` : `Layer ${options.layer}: ${label} per epoch`;
  const color = overlay ? { color: { field: 'variant', type: 'nominal' as const, title: 'variant' } } : {};
  const y = (field: string) => ({ field, type: 'quantitative' as const, title: label, scale: { zero: false } });
  return {
    ...frame(`${title}: median, 10-90 % band and extremes across units`, title, points, options),
    layer: [
      { mark: { type: 'area', opacity: 0.25, interpolate: 'linear' }, encoding: { x, y: y('p10'), y2: { field: 'p90' }, ...color } },
      { mark: { type: 'line', strokeWidth: 0.75, strokeDash: [3, 3] }, encoding: { x, y: y('min'), ...color } },
      { mark: { type: 'line', strokeWidth: 0.75, strokeDash: [3, 3] }, encoding: { x, y: y('max'), ...color } },
      {
        mark: { type: 'line', point: true, interpolate: 'linear' },
        encoding: {
          x,
          y: y('median'),
          ...color,
          tooltip: [
            ...(overlay ? [{ field: 'variant', type: 'nominal' as const }] : []),
            { field: 'epoch', type: 'quantitative' },
            ...(['min', 'p10', 'median', 'p90', 'max'] as const).map((f) => ({ field: f, type: 'quantitative' as const, format: '.4~g' })),
          ],
        },
      },
    ],
  } as TopLevelSpec;
}

/**
 * Drift per layer over epochs: a median line in a p10-p90 band per layer (colour: the layer); with
 * variants, colour is the variant and the dash the layer.
 */
export function driftSpec(points: DriftPoint[], options: BnChartOptions & { measure?: DriftMeasure } = {}): TopLevelSpec {
  const overlay = points.some((p) => p.variant !== undefined);
  const measure = options.measure ?? 'meanDrift';
  const x = epochAxis(points, options, 1);
  const label = LABELS[measure];
  const title = `${measure === 'meanDrift' ? 'Mean' : 'Std'} drift of each layer's input per epoch`;
  const y = { field: 'median', type: 'quantitative' as const, title: label };
  const color = overlay ? { field: 'variant', type: 'nominal' as const, title: 'variant' } : { field: 'layer', type: 'nominal' as const, title: null };
  const dash = overlay ? { strokeDash: { field: 'layer', type: 'nominal' as const, title: null } } : {};
  return {
    ...frame(`${title}: median and 10-90 % band across units`, title, points, options),
    layer: [
      { mark: { type: 'area', opacity: 0.2, interpolate: 'linear' }, encoding: { x, y: { ...y, field: 'p10' }, y2: { field: 'p90' }, color, detail: { field: 'series' } } },
      {
        mark: { type: 'line', point: true, interpolate: 'linear' },
        encoding: {
          x,
          y,
          color,
          ...dash,
          detail: { field: 'series' },
          tooltip: [
            { field: 'series', type: 'nominal', title: 'layer' },
            { field: 'epoch', type: 'quantitative' },
            ...(['p10', 'median', 'p90'] as const).map((f) => ({ field: f, type: 'quantitative' as const, format: '.4~g' })),
          ],
        },
      },
    ],
  } as TopLevelSpec;
}
