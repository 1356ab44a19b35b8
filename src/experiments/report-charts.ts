// The report's charts, by name (EXPERIMENT_CHARTS): loss and validation accuracy per epoch with every
// variant overlaid (src/charts/training-curves.ts), and the per-layer drift and BN statistics
// (src/charts/bn-stats.ts). Plain data in, a Vega-Lite spec out; null when the experiment has no data for it.
import type { TopLevelSpec } from 'vega-lite';
import { curvePoints, curveSpec } from '../charts/training-curves.js';
import { bandPoints, bandSpec, driftPoints, driftSpec, type BandQuantity } from '../charts/bn-stats.js';
import type { BnStatsEpoch } from '../schemas/bn-stats.js';
import type { ExperimentChart, ExperimentStatus } from '../schemas/experiment.js';
import { REPORT_CHART_WIDTH } from './report-svg.js';

export const CHART_TITLES: Record<ExperimentChart, string> = {
  loss: 'Training and validation loss per epoch (log scale)',
  'val-accuracy': 'Validation accuracy per epoch',
  drift: "Drift of each hidden layer's input per epoch (median and 10-90 % band across units)",
  'bn-gamma': 'BN gamma per epoch, per hidden layer (median, 10-90 % band, extremes across units)',
  'bn-moving-variance': 'BN moving variance per epoch, per hidden layer (median, 10-90 % band, extremes across units)',
};

export interface ChartInput {
  experiment: ExperimentStatus;
  /** Each variant's per-epoch BN statistics, by variant name (GET /v1/models/:id/bn-stats). */
  bnStats?: ReadonlyMap<string, readonly BnStatsEpoch[]>;
}

/** One band chart per hidden layer, stacked: the variants with BN overlaid in each. */
function layerBands(input: ChartInput, quantity: BandQuantity, title: string, epochs: number): TopLevelSpec | null {
  const layers = Math.max(0, ...[...(input.bnStats?.values() ?? [])].flatMap((e) => e.flatMap((x) => x.layers.map((l) => l.layer + 1))));
  const charts = [];
  for (let layer = 0; layer < layers; layer++) {
    const points = input.experiment.variants.flatMap((v) => bandPoints(input.bnStats?.get(v.name) ?? [], layer, quantity, v.name));
    if (points.length === 0) continue;
    // A stacked chart takes its rows inline: a named dataset belongs to the top level only.
    const { $schema: _s, datasets: _d, data: _data, autosize: _a, ...chart } = bandSpec(points, quantity, { layer, epochs, width: REPORT_CHART_WIDTH, height: 200 }) as unknown as Record<string, unknown>;
    charts.push({ ...chart, data: { values: points } });
  }
  if (charts.length === 0) return null;
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, vconcat: charts, config: LEGEND } as unknown as TopLevelSpec;
}

/** Legends wide enough for variant names (Vega truncates labels at 160 px by default). */
const LEGEND = { legend: { labelLimit: 320 } };

/** Loss spans orders of magnitude between variants that learn and those that do not: a log axis. */
function logLoss(spec: TopLevelSpec): TopLevelSpec {
  const s = spec as unknown as { encoding: { y: Record<string, unknown> } };
  return { ...spec, encoding: { ...s.encoding, y: { ...s.encoding.y, scale: { type: 'log' } } } } as unknown as TopLevelSpec;
}

function epochsOf(experiment: ExperimentStatus): number {
  return Math.max(1, ...experiment.variants.map((v) => v.progress.epochs));
}

export function experimentChartSpec(chart: ExperimentChart, input: ChartInput): TopLevelSpec | null {
  const { experiment } = input;
  const epochs = epochsOf(experiment);
  switch (chart) {
    case 'loss': {
      const points = experiment.variants.flatMap((v) => curvePoints(v.history ?? [], 'loss', v.name));
      return points.length === 0 ? null : ({ ...logLoss(curveSpec(points, 'loss', { epochs, width: REPORT_CHART_WIDTH, height: 300 })), title: CHART_TITLES.loss, config: LEGEND } as TopLevelSpec);
    }
    case 'val-accuracy': {
      const points = experiment.variants.flatMap((v) => curvePoints(v.history ?? [], 'accuracy', v.name)).filter((p) => p.split === 'validation');
      return points.length === 0 ? null : ({ ...curveSpec(points, 'accuracy', { epochs, width: REPORT_CHART_WIDTH, height: 300 }), title: CHART_TITLES['val-accuracy'], config: LEGEND } as TopLevelSpec);
    }
    case 'drift': {
      const points = experiment.variants.flatMap((v) => driftPoints(input.bnStats?.get(v.name) ?? [], 'meanDrift', v.name));
      return points.length === 0 ? null : ({ ...driftSpec(points, { epochs, width: REPORT_CHART_WIDTH, height: 300 }), title: CHART_TITLES.drift, config: LEGEND } as TopLevelSpec);
    }
    case 'bn-gamma':
      return layerBands(input, 'gamma', CHART_TITLES['bn-gamma'], epochs);
    case 'bn-moving-variance':
      return layerBands(input, 'movingVariance', CHART_TITLES['bn-moving-variance'], epochs);
  }
}
