// The report's data: per variant its resolved settings (from its model record), its outcome, its final
// and test metrics and its training time, with the notes that say how each figure was obtained.
import type { ExperimentReport, ExperimentReportRow, ExperimentStatus, ExperimentVariantStatus } from '../schemas/experiment.js';
import { EXPERIMENT_CHARTS } from '../schemas/experiment.js';
import type { ModelRecord, Store } from '../store/store.js';
import type { BnStatsEpoch } from '../schemas/bn-stats.js';
import { CHART_TITLES, experimentChartSpec } from './report-charts.js';
import { BN_COMPARISONS, variantName } from './template.js';

export const REPORT_NOTES = {
  test: "Test metrics: the dataset's held-out test part, evaluated with the frozen moving statistics once the job ended, on the last epoch it trained.",
  diverged:
    'A variant whose loss (or validation loss) became NaN or infinite stopped there and is shown as "diverged in epoch N". ' +
    'Its test metrics are those of what it left, its last finite checkpoint (epoch N-1, evaluated on the test part), and are marked so; ' +
    'a variant that diverged in epoch 1 left no checkpoint and has none.',
  duration: "Time: the variant's training time on this server, the sum of its epochs' durations (time queued behind other variants is not counted).",
  template: `Optimizer: plain SGD (no momentum), as the Keras original; the same seed for every variant. Without BN each hidden layer is Dense (with bias) -> ReLU, with BN Dense (no bias) -> BN -> ReLU.`,
  bnStats:
    "Drift and BN statistics: per epoch, on a fixed probe batch of training rows; drift is how far the mean of each unit's input moved since the previous epoch, in the previous epoch's standard deviations (GET /v1/models/:id/bn-stats).",
  original: 'Original: the test accuracy of the Keras original these comparisons come from (SGD, 48,000 MNIST training images, 10 epochs).',
} as const;

function outcome(v: ExperimentVariantStatus): string {
  if (v.diverged) return `diverged in epoch ${v.diverged.epoch}`;
  if (v.status === 'failed') return `failed: ${v.error ?? 'no reason recorded'}`;
  return v.status;
}

function originalFigure(experiment: ExperimentStatus, v: ExperimentVariantStatus, bn: boolean): number | undefined {
  if (experiment.template !== 'bn-comparisons' || !experiment.datasetId.startsWith('builtin:mnist')) return undefined;
  const c = BN_COMPARISONS.find((x) => x.name === v.comparison && variantName(x.name, bn) === v.name);
  return c && (bn ? c.original.withBn : c.original.withoutBn);
}

function row(experiment: ExperimentStatus, v: ExperimentVariantStatus, model: ModelRecord | null): ExperimentReportRow {
  const spec = model?.spec;
  const training = model?.training;
  const last = v.history?.at(-1);
  const init = spec?.weightInit;
  const bn = spec?.batchNorm.enabled ?? false;
  const original = originalFigure(experiment, v, bn);
  return {
    name: v.name,
    ...(v.comparison !== undefined && { comparison: v.comparison }),
    batchNorm: bn,
    optimizer: training?.optimizer ?? String(v.training.optimizer ?? ''),
    learningRate: training?.learningRate ?? Number(v.training.learningRate ?? 0),
    batchSize: training?.batchSize ?? Number(v.training.batchSize ?? 0),
    weightInit: !init ? '' : init.method === 'uniform' ? `uniform(${init.min}, ${init.max})` : init.method,
    hidden: spec?.hidden ?? [],
    datasetId: v.datasetId,
    status: v.status,
    outcome: outcome(v),
    epochsTrained: v.history?.length ?? v.progress.epoch,
    ...(last && { final: { loss: last.loss, accuracy: last.accuracy, valLoss: last.valLoss, valAccuracy: last.valAccuracy } }),
    ...(v.testMetrics && v.testMetricsOf && {
      test: { accuracy: v.testMetrics.accuracy, loss: v.testMetrics.loss, checkpoint: v.testMetrics.checkpoint, of: v.testMetricsOf },
    }),
    ...(original !== undefined && { original }),
    ...(v.durationMs !== undefined && { durationMs: v.durationMs }),
  };
}

/** Each variant's per-epoch BN statistics, by variant name. */
export async function variantBnStats(store: Store, experiment: ExperimentStatus): Promise<Map<string, BnStatsEpoch[]>> {
  const all = await Promise.all(experiment.variants.map((v) => store.bnStats(v.modelId)));
  return new Map(experiment.variants.map((v, i) => [v.name, all[i]]));
}

/** `experiment` with every variant's history (experimentStatus with history and evaluation). */
export async function reportData(store: Store, experiment: ExperimentStatus, bnStats?: Map<string, BnStatsEpoch[]>): Promise<ExperimentReport> {
  bnStats ??= await variantBnStats(store, experiment);
  const models = await Promise.all(experiment.variants.map((v) => store.getModel(v.modelId)));
  const rows = experiment.variants.map((v, i) => row(experiment, v, models[i]));
  const notes: string[] = [];
  if (experiment.template === 'bn-comparisons') notes.push(REPORT_NOTES.template);
  else if (new Set(rows.map((r) => r.optimizer)).size === 1) notes.push(`Optimizer: ${rows[0]?.optimizer}; the same seed for every variant.`);
  notes.push(REPORT_NOTES.test, REPORT_NOTES.diverged, REPORT_NOTES.duration);
  if (rows.some((r) => r.original !== undefined)) notes.push(REPORT_NOTES.original);
  const charts = EXPERIMENT_CHARTS.map((name) => ({
    name,
    title: CHART_TITLES[name],
    available: experimentChartSpec(name, { experiment, bnStats }) !== null,
    url: `/v1/experiments/${experiment.experimentId}/charts/${name}.svg`,
  }));
  notes.push(REPORT_NOTES.bnStats);
  return { experiment, generatedAt: new Date().toISOString(), notes, rows, charts, bnStats: Object.fromEntries(bnStats) };
}
