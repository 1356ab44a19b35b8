// The report's charts, by name (EXPERIMENT_CHARTS): loss and validation accuracy per epoch with every
// variant overlaid (src/charts/training-curves.ts), and the per-layer drift and BN statistics
// (src/charts/bn-stats.ts). Plain data in, a Vega-Lite spec out; null when the experiment has no data for it.
import type { TopLevelSpec } from 'vega-lite';
import { curvePoints, curveSpec } from '../charts/training-curves.js';
import type { ExperimentChart, ExperimentStatus } from '../schemas/experiment.js';
import { REPORT_CHART_WIDTH } from './report-svg.js';

export const CHART_TITLES: Record<ExperimentChart, string> = {
  loss: 'Training and validation loss per epoch',
  'val-accuracy': 'Validation accuracy per epoch',
  drift: 'Drift of each hidden layer\'s input per epoch',
  'bn-gamma': 'BN gamma per epoch',
  'bn-moving-variance': 'BN moving variance per epoch',
};

export interface ChartInput {
  experiment: ExperimentStatus;
}

function epochsOf(experiment: ExperimentStatus): number {
  return Math.max(1, ...experiment.variants.map((v) => v.progress.epochs));
}

export function experimentChartSpec(chart: ExperimentChart, { experiment }: ChartInput): TopLevelSpec | null {
  const epochs = epochsOf(experiment);
  switch (chart) {
    case 'loss': {
      const points = experiment.variants.flatMap((v) => curvePoints(v.history ?? [], 'loss', v.name));
      return points.length === 0 ? null : { ...curveSpec(points, 'loss', { epochs, width: REPORT_CHART_WIDTH, height: 300 }), title: CHART_TITLES.loss } as TopLevelSpec;
    }
    case 'val-accuracy': {
      const points = experiment.variants.flatMap((v) => curvePoints(v.history ?? [], 'accuracy', v.name)).filter((p) => p.split === 'validation');
      return points.length === 0 ? null : { ...curveSpec(points, 'accuracy', { epochs, width: REPORT_CHART_WIDTH, height: 300 }), title: CHART_TITLES['val-accuracy'] } as TopLevelSpec;
    }
    default:
      // The BN statistics charts need the per-epoch statistics of each variant's model.
      return null;
  }
}
