// Experiments, behind one object the routes call: create, read, list, delete (cancelling what still
// runs), the report and its charts, the event stream. No HTTP here.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/config.js';
import type { InferenceEngine } from '../inference/types.js';
import type { TrainingQueue } from '../queue/types.js';
import type { ExperimentChart, ExperimentRecord, ExperimentReport, ExperimentStatus } from '../schemas/experiment.js';
import { EXPERIMENT_CHARTS } from '../schemas/experiment.js';
import type { Store } from '../store/store.js';
import type { BnStatsEpoch } from '../schemas/bn-stats.js';
import type { Submitter } from '../training-jobs/submit.js';
import { FINAL_STATUSES } from '../queue/job-status.js';
import { createExperimentCreator } from './create.js';
import { lastFiniteEvaluator } from './diverged.js';
import { experimentEvents } from './events.js';
import { CHART_TITLES, experimentChartSpec } from './report-charts.js';
import { reportData, variantBnStats } from './report-data.js';
import { reportHtml } from './report-html.js';
import { renderSvg } from './report-svg.js';
import { experimentStatus, type StatusOptions } from './status.js';

export interface ExperimentDeps {
  store: Store;
  queue: TrainingQueue;
  config: Config;
  inference: InferenceEngine;
  submit: Submitter;
  log: FastifyBaseLogger;
}

export function createExperiments(deps: ExperimentDeps) {
  const { store, queue, inference, log } = deps;
  const statusDeps = { store, queue, lastFinite: lastFiniteEvaluator(store, inference, log) };
  const create = createExperimentCreator(deps);

  const status = (record: ExperimentRecord, options?: StatusOptions) => experimentStatus(statusDeps, record, options);

  async function report(record: ExperimentRecord): Promise<ExperimentReport> {
    return reportData(store, await status(record));
  }

  async function chartSvg(experiment: ExperimentStatus, chart: ExperimentChart, bnStats?: Map<string, BnStatsEpoch[]>): Promise<string | null> {
    const spec = experimentChartSpec(chart, { experiment, bnStats: bnStats ?? (await variantBnStats(store, experiment)) });
    return spec && renderSvg(spec);
  }

  return {
    create,
    get: (experimentId: string) => store.getExperiment(experimentId),
    list: () => store.listExperiments(),
    status,
    report,

    async reportHtml(record: ExperimentRecord): Promise<string> {
      const experiment = await status(record);
      const bnStats = await variantBnStats(store, experiment);
      const data = await reportData(store, experiment, bnStats);
      const charts = [];
      for (const name of EXPERIMENT_CHARTS) charts.push({ name, title: CHART_TITLES[name], svg: await chartSvg(experiment, name, bnStats) });
      return reportHtml(data, charts);
    },

    async chart(record: ExperimentRecord, chart: ExperimentChart): Promise<string | null> {
      return chartSvg(await status(record, { evaluate: false }), chart);
    },

    /** Cancels the variants still queued or running, then removes the record; the models stay. */
    async remove(record: ExperimentRecord): Promise<ExperimentStatus> {
      const before = await status(record, { evaluate: false });
      await Promise.all(before.variants.filter((v) => !FINAL_STATUSES.has(v.status)).map((v) => queue.cancel(v.jobId)));
      await store.deleteExperiment(record.experimentId);
      log.info({ experimentId: record.experimentId }, 'experiment deleted; its variants were cancelled where they still ran');
      return status(record, { evaluate: false });
    },

    events: (record: ExperimentRecord, closed: Promise<void>) => experimentEvents(statusDeps, record, closed),
  };
}

export type Experiments = ReturnType<typeof createExperiments>;
