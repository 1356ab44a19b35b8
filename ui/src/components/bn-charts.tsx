// The BN panel's charts: bands over epochs of one quantity of one hidden layer, and the drift of the
// layer's input. The specifications come from src/charts (shared with the server-side reports).
import { useMemo } from 'preact/hooks';
import type { TopLevelSpec } from 'vega-lite';
import type { LayerSeries } from '../api/bn-stats.js';
import { Chart } from './chart.js';

export type BandQuantity = 'gamma' | 'beta' | 'movingMean' | 'movingVariance' | 'mean' | 'std';

const DATA = 'rows';

const LABELS: Record<BandQuantity, string> = {
  gamma: 'γ (scale)',
  beta: 'β (shift)',
  movingMean: 'moving mean',
  movingVariance: 'moving variance',
  mean: 'pre-activation mean',
  std: 'pre-activation std',
};

function bandSpec(series: LayerSeries, quantity: BandQuantity): TopLevelSpec {
  const rows = series.epochs.flatMap(({ epoch, stats }) => {
    const q = stats[quantity];
    return q ? [{ epoch, min: q[0], p10: q[1], median: q[2], p90: q[3], max: q[4] }] : [];
  });
  const x = { field: 'epoch', type: 'quantitative' as const, axis: { tickMinStep: 1, format: 'd' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Layer ${series.layer + 1}: ${LABELS[quantity]}`,
    width: 'container',
    height: 180,
    autosize: { type: 'fit-x', contains: 'padding' },
    datasets: { [DATA]: rows },
    data: { name: DATA },
    layer: [
      { mark: { type: 'area', opacity: 0.3 }, encoding: { x, y: { field: 'p10', type: 'quantitative', title: LABELS[quantity] }, y2: { field: 'p90' } } },
      { mark: { type: 'line', strokeWidth: 1, strokeDash: [3, 3] }, encoding: { x, y: { field: 'min', type: 'quantitative' } } },
      { mark: { type: 'line', strokeWidth: 1, strokeDash: [3, 3] }, encoding: { x, y: { field: 'max', type: 'quantitative' } } },
      { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'median', type: 'quantitative' } } },
    ],
  };
}

function driftSpec(series: LayerSeries): TopLevelSpec {
  const rows = series.epochs.flatMap(({ epoch, stats }) =>
    (['meanDrift', 'stdDrift'] as const).flatMap((kind) => {
      const q = stats[kind];
      return q ? [{ epoch, kind, p10: q[1], median: q[2], p90: q[3] }] : [];
    }),
  );
  const x = { field: 'epoch', type: 'quantitative' as const, axis: { tickMinStep: 1, format: 'd' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Layer ${series.layer + 1}: drift of the input`,
    width: 'container',
    height: 180,
    autosize: { type: 'fit-x', contains: 'padding' },
    datasets: { [DATA]: rows },
    data: { name: DATA },
    encoding: { x, color: { field: 'kind', type: 'nominal', title: null } },
    layer: [
      { mark: { type: 'area', opacity: 0.25 }, encoding: { y: { field: 'p10', type: 'quantitative', title: 'drift' }, y2: { field: 'p90' } } },
      { mark: { type: 'line', point: true }, encoding: { y: { field: 'median', type: 'quantitative' } } },
    ],
  };
}

export function BandChart({ series, quantity }: { series: LayerSeries; quantity: BandQuantity }) {
  const spec = useMemo(() => bandSpec(series, quantity), [series, quantity]);
  return (
    <Chart
      name={`band-${series.layer}-${quantity}`}
      spec={spec}
      dataset={DATA}
      caption={`Hidden layer ${series.layer + 1}, ${LABELS[quantity]} across its ${series.units} units per epoch: 10-90 % band, median line, min and max dashed`}
    />
  );
}

export function DriftChart({ series }: { series: LayerSeries }) {
  const spec = useMemo(() => driftSpec(series), [series]);
  return (
    <Chart
      name={`drift-${series.layer}`}
      spec={spec}
      dataset={DATA}
      caption={`Hidden layer ${series.layer + 1}, drift of its input per epoch (mean drift and std drift): median line, 10-90 % band`}
    />
  );
}

/** One line per variant: the median mean drift of one hidden layer per epoch (an experiment's overlay). */
function driftOverlaySpec(layer: number, variants: { variant: string; series: LayerSeries }[]): TopLevelSpec {
  const rows = variants.flatMap(({ variant, series }) =>
    series.epochs.flatMap(({ epoch, stats }) => (stats.meanDrift ? [{ epoch, variant, p10: stats.meanDrift[1], median: stats.meanDrift[2], p90: stats.meanDrift[3] }] : [])),
  );
  const x = { field: 'epoch', type: 'quantitative' as const, axis: { tickMinStep: 1, format: 'd' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Layer ${layer + 1}: mean drift per variant`,
    width: 'container',
    height: 200,
    autosize: { type: 'fit-x', contains: 'padding' },
    datasets: { [DATA]: rows },
    data: { name: DATA },
    encoding: { x, color: { field: 'variant', type: 'nominal', title: 'variant' } },
    layer: [
      { mark: { type: 'area', opacity: 0.15 }, encoding: { y: { field: 'p10', type: 'quantitative', title: 'mean drift' }, y2: { field: 'p90' } } },
      { mark: { type: 'line', point: true }, encoding: { y: { field: 'median', type: 'quantitative' } } },
    ],
  };
}

export function DriftOverlayChart({ layer, variants }: { layer: number; variants: { variant: string; series: LayerSeries }[] }) {
  const spec = useMemo(() => driftOverlaySpec(layer, variants), [layer, variants]);
  return (
    <Chart
      name={`drift-overlay-${layer}`}
      spec={spec}
      dataset={DATA}
      caption={`Hidden layer ${layer + 1}: drift of its input per epoch, one line per variant (median, 10-90 % band)`}
    />
  );
}
