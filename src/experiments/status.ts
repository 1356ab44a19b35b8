// An experiment's status, read fresh every time: each variant's status and progress from the queue (the
// one source of a job's status), its history from its model's epoch log, its test metrics from its job.
// Nothing of this is stored with the experiment.
import type { ExperimentRecord, ExperimentStatus, ExperimentStatusName, ExperimentVariantStatus } from '../schemas/experiment.js';
import type { TrainingQueue } from '../queue/types.js';
import type { Store } from '../store/store.js';
import { FINAL_STATUSES } from '../queue/job-status.js';
import { divergedFrom, type LastFiniteMetrics } from './diverged.js';

export interface StatusDeps {
  store: Store;
  queue: TrainingQueue;
  lastFinite: LastFiniteMetrics;
}

export interface StatusOptions {
  /** false: no histories (lists); durations and outcomes are still computed. */
  history?: boolean;
  /** false: no evaluation of diverged variants' last finite checkpoints. */
  evaluate?: boolean;
}

/** The experiment's status from its variants' (see ExperimentStatusName). */
export function aggregateStatus(variants: readonly Pick<ExperimentVariantStatus, 'status' | 'diverged'>[]): ExperimentStatusName {
  if (variants.every((v) => v.status === 'queued')) return 'queued';
  if (variants.some((v) => !FINAL_STATUSES.has(v.status))) return 'running';
  if (variants.some((v) => v.status === 'cancelled')) return 'cancelled';
  if (variants.some((v) => v.status === 'failed' && !v.diverged)) return 'failed';
  return 'completed';
}

export async function experimentStatus(deps: StatusDeps, record: ExperimentRecord, options: StatusOptions = {}): Promise<ExperimentStatus> {
  const statuses = await deps.queue.getStatuses(record.variants.map((v) => v.jobId));
  const variants = await Promise.all(
    record.variants.map(async (ref): Promise<ExperimentVariantStatus> => {
      const s = statuses.get(ref.jobId);
      const history = (await deps.store.readEpochs(ref.modelId)).records;
      const base = { name: ref.name, jobId: ref.jobId, modelId: ref.modelId, ...(ref.comparison !== undefined && { comparison: ref.comparison }), datasetId: ref.datasetId };
      const settings = { model: ref.model, training: ref.training };
      if (!s) {
        // The queue forgot the job (finished jobs are kept 7 days): its status can no longer be told.
        return {
          ...base,
          status: 'failed',
          progress: { epoch: history.length, epochs: Number(ref.training.epochs ?? history.length), lastSavedEpoch: history.at(-1)?.epoch ?? 0 },
          ...(options.history !== false && { history }),
          error: `the queue no longer knows job ${ref.jobId} (finished jobs are kept for 7 days); its model ${ref.modelId} keeps its checkpoints and history`,
          ...settings,
        };
      }
      const finished = FINAL_STATUSES.has(s.status);
      const diverged = s.status === 'failed' ? divergedFrom(s.error) : undefined;
      let testMetrics = s.testMetrics;
      let testMetricsOf: ExperimentVariantStatus['testMetricsOf'] = testMetrics && 'final';
      if (!testMetrics && diverged && options.evaluate !== false) {
        testMetrics = await deps.lastFinite(ref.modelId, ref.datasetId, diverged.lastFiniteEpoch);
        testMetricsOf = testMetrics && 'last-finite-checkpoint';
      }
      return {
        ...base,
        status: s.status,
        progress: s.progress,
        ...(options.history !== false && { history }),
        ...(testMetrics && { testMetrics, testMetricsOf }),
        ...(diverged && { diverged }),
        ...(s.error !== undefined && { error: s.error }),
        ...(finished && { durationMs: history.reduce((sum, h) => sum + h.durationMs, 0) }),
        ...(s.finishedAt !== undefined && { finishedAt: s.finishedAt }),
        ...settings,
      };
    }),
  );
  return {
    experimentId: record.experimentId,
    name: record.name,
    datasetId: record.datasetId,
    ...(record.template && { template: record.template }),
    seed: record.seed,
    status: aggregateStatus(variants),
    createdAt: record.createdAt,
    variants,
  };
}
