// A training job: live loss and accuracy curves (over the job's event stream), progress, timing, the
// options it was trained with, its error if it failed, and cancellation.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/client.js';
import { followJob } from '../api/job-events.js';
import { retrying } from '../api/retry.js';
import type { EpochMetrics, JobStatus, ModelDetail } from '../api/types.js';
import { ApiErrorBox, FailureBox } from '../components/api-error.js';
import { TrainingCurves } from '../components/training-curves.js';
import { LearningRateChart } from '../components/learning-rate-chart.js';
import { EvaluationView } from '../components/evaluation.js';
import { OptionsList } from '../components/options.js';
import { EpochTable } from '../components/epoch-table.js';
import { Fact, ModelFacts } from '../components/facts.js';
import { StatusBadge, isActive } from '../components/status.js';
import { CancelJob } from '../components/cancel-job.js';
import { useTitle } from '../components/use-title.js';
import { fmt, fmtDate, fmtDuration, fmtInt } from '../format.js';
import { epochsOfEvent, mergeEpochs } from '../jobs/epoch-metrics.js';
import { elapsedMs, remainingMs } from '../jobs/timing.js';

function isJobStatus(data: unknown): data is JobStatus {
  return !!data && typeof data === 'object' && typeof (data as JobStatus).status === 'string' && !!(data as JobStatus).progress;
}

type Stream = 'connecting' | 'live' | 'reconnecting' | 'ended';

export function JobPage({ jobId }: { jobId: string }) {
  useTitle(`Job ${jobId}`);
  const [status, setStatus] = useState<JobStatus>();
  const [model, setModel] = useState<ModelDetail>();
  const [history, setHistory] = useState<EpochMetrics[]>([]);
  const [error, setError] = useState<unknown>();
  const [stream, setStream] = useState<Stream>('connecting');
  const [now, setNow] = useState(Date.now());

  useEffect(() => {
    const abort = new AbortController();
    const { signal } = abort;
    setStatus(undefined);
    setModel(undefined);
    setHistory([]);
    setError(undefined);
    const loadModel = async (modelId: string) => {
      const detail = await retrying(() => api<ModelDetail>(`/v1/models/${modelId}`, { signal }), signal);
      if (signal.aborted) return;
      setModel(detail);
      // Every saved epoch's metrics: the full history, whatever the event stream carries.
      setHistory((h) => mergeEpochs(detail.checkpoints.map((c) => c.metrics), h));
    };
    (async () => {
      const first = await retrying(() => api<JobStatus>(`/v1/training-jobs/${jobId}`, { signal }), signal);
      if (signal.aborted) return;
      setStatus(first);
      setHistory((h) => mergeEpochs(h, first.history ?? []));
      // The model's facts and saved epochs complete the page; the job is followed whether or not they load.
      void loadModel(first.modelId).catch((err: unknown) => !signal.aborted && setError(err));
      await followJob(
        jobId,
        {
          onEvent(event, data) {
            // An epoch event carries metrics only: the stream's state follows the statuses.
            if (isJobStatus(data)) {
              setStream(isActive(data.status) ? 'live' : 'ended');
              setStatus(data);
            }
            setHistory((h) => mergeEpochs(h, epochsOfEvent(event, data)));
            // The final event: the model record now has every checkpoint and its final status.
            if (isJobStatus(data) && !isActive(data.status)) void loadModel(data.modelId).catch((err: unknown) => !signal.aborted && setError(err));
          },
          onReconnecting: (reconnecting) => setStream(reconnecting ? 'reconnecting' : 'live'),
        },
        signal,
      );
      if (!signal.aborted) setStream('ended');
    })().catch((err: unknown) => {
      if (!signal.aborted) setError(err);
    });
    return () => abort.abort();
  }, [jobId]);

  const active = status ? isActive(status.status) : false;
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);

  const epochs = status?.progress.epochs ?? model?.training.epochs;
  const classification = model ? model.spec.task !== 'regression' : true;
  // Recorded at the job's end on the dataset's test part: on the job's status, else on the model.
  const testMetrics = status?.testMetrics ?? model?.testMetrics;

  return (
    <section>
      <div class="page-head">
        <h1>
          Training job <code>{jobId}</code>
        </h1>
        {status && <StatusBadge status={status.status} />}
        {/* In the head: nothing that loads later (facts, errors, charts) moves it under the pointer. */}
        {status && <CancelJob key={jobId} jobId={jobId} status={status.status} onCancelled={setStatus} />}
      </div>
      <ApiErrorBox error={error} title="The job could not be loaded" />
      {status && (
        <>
          <JobSummary status={status} model={model} history={history} now={now} stream={stream} />
          {status.status === 'failed' && status.error && <FailureBox title="The job failed" message={status.error} />}
        </>
      )}
      {status?.stoppedEarly && (
        <p class="note" data-testid="stopped-early" role="status">
          Stopped early after epoch {status.stoppedEarly.epoch} of {status.progress.epochs}: {status.stoppedEarly.monitor} did not
          improve for {model?.training.earlyStopping?.patience ?? 'the patience'} epochs; the best was {fmt(status.stoppedEarly.best)} at
          epoch {status.stoppedEarly.bestEpoch} (kept as the best checkpoint).
        </p>
      )}
      {testMetrics && <EvaluationView testId="test-metrics" result={testMetrics} caption={`Test metrics (the dataset's test part, checkpoint of epoch ${testMetrics.checkpoint})`} />}
      {status && <TrainingCurves history={history} epochs={epochs} classification={classification} />}
      {status && <LearningRateChart history={history} epochs={epochs} />}
      {history.length > 0 && <EpochTable history={history} caption="Metrics per epoch" collapsed />}
      {model && (
        <div class="columns">
          <OptionsList caption="Model (resolved, every default filled in)" options={{ model: model.spec }} />
          <OptionsList caption="Training options" options={{ training: model.training }} />
        </div>
      )}
    </section>
  );
}

function JobSummary({ status, model, history, now, stream }: { status: JobStatus; model?: ModelDetail; history: EpochMetrics[]; now: number; stream: Stream }) {
  const p = status.progress;
  const inEpoch = p.batches && p.batch !== undefined && p.batch < p.batches ? ` (batch ${p.batch} of ${p.batches})` : '';
  const left = remainingMs(status, history);
  const samples = p.samplesPerSecond ?? history[history.length - 1]?.samplesPerSecond;
  return (
    <>
      <div class="progress-line">
        <label for="job-progress">
          Epoch {p.epoch} of {p.epochs}
          {inEpoch}
        </label>
        <progress id="job-progress" max={p.epochs} value={p.epoch + (inEpoch ? (p.batch as number) / (p.batches as number) : 0)} />
        <span class="stream" aria-live="polite" data-stream={stream}>
          {stream === 'live' ? 'live' : stream === 'reconnecting' ? 'reconnecting…' : stream === 'connecting' ? 'connecting…' : ''}
        </span>
      </div>
      <dl class="facts">
        <Fact term="Model">
          <a href={`/ui/models/${status.modelId}`}>
            <code>{status.modelId}</code>
          </a>
        </Fact>
        {model && <ModelFacts model={model} />}
        <Fact term="Samples/s">{fmtInt(samples)}</Fact>
        <Fact term="Elapsed">{fmtDuration(elapsedMs(status, now))}</Fact>
        <Fact term="Time left">{left === undefined ? (isActive(status.status) ? 'after the first epoch' : '–') : `about ${fmtDuration(left)}`}</Fact>
        <Fact term="Attempts">{status.attempts}</Fact>
        <Fact term="Backend">{status.backend ?? '–'}</Fact>
        <Fact term="Submitted">{fmtDate(status.createdAt)}</Fact>
        {status.finishedAt && <Fact term="Finished">{fmtDate(status.finishedAt)}</Fact>}
      </dl>
    </>
  );
}
