// One experiment: its variants side by side (status, progress, final and test metrics, duration, links),
// their curves overlaid, the drift of each layer per variant, the HTML report, and cancellation. Live over
// the experiment's event stream.
import { useEffect, useState } from 'preact/hooks';
import { FINAL_EVENTS } from '../api/job-events.js';
import { applyExperimentEvent, followExperiment, getExperiment, isFinished, type ExperimentStatus } from '../api/experiments.js';
import { ApiErrorBox } from '../components/api-error.js';
import { DeleteExperiment, Report } from '../components/experiment-actions.js';
import { DriftOverlay } from '../components/experiment-drift.js';
import { Curves, TestMetricsTable, VariantsTable } from '../components/experiment-variants.js';
import { DatasetLink, Fact } from '../components/facts.js';
import { OptionsList } from '../components/options.js';
import { StatusBadge } from '../components/status.js';
import { useTitle } from '../components/use-title.js';
import { fmtDate } from '../format.js';

type Stream = 'connecting' | 'live' | 'reconnecting' | 'ended';

const FLUSH_MS = 1000;

export function ExperimentPage({ experimentId }: { experimentId: string }) {
  useTitle(`Experiment ${experimentId}`);
  const [status, setStatus] = useState<ExperimentStatus>();
  const [error, setError] = useState<unknown>();
  const [stream, setStream] = useState<Stream>('connecting');
  const [deleted, setDeleted] = useState(false);

  useEffect(() => {
    const abort = new AbortController();
    const { signal } = abort;
    setStatus(undefined);
    setError(undefined);
    setDeleted(false);
    // Epochs of fast variants arrive many a second: they are applied together, at most once per
    // FLUSH_MS, so that the page (and its charts) stays responsive; whole statuses are applied at once.
    let pending: { event: string; data: unknown }[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      clearTimeout(timer);
      timer = undefined;
      const events = pending;
      pending = [];
      if (!signal.aborted && events.length > 0) setStatus((s) => events.reduce((acc, e) => applyExperimentEvent(acc, e.event, e.data), s));
    };
    (async () => {
      // An experiment that cannot be read (unknown id) has no stream either.
      const first = await getExperiment(experimentId, signal);
      if (signal.aborted) return;
      setStatus(first);
      await followExperiment(
        experimentId,
        {
          onEvent(event, data) {
            const final = FINAL_EVENTS.has(event);
            setStream(final ? 'ended' : 'live');
            pending.push({ event, data });
            if (final || event === 'status') flush();
            else timer ??= setTimeout(flush, FLUSH_MS);
          },
          onReconnecting: (reconnecting) => setStream(reconnecting ? 'reconnecting' : 'live'),
        },
        signal,
      );
      if (!signal.aborted) setStream('ended');
    })().catch((err: unknown) => {
      if (!signal.aborted) {
        setStream('ended');
        setError(err);
      }
    });
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [experimentId]);

  const active = status ? !isFinished(status.status) : false;

  return (
    <section>
      <div class="page-head">
        <h1>
          Experiment {status ? status.name : <code>{experimentId}</code>}
        </h1>
        {status && <StatusBadge status={deleted ? 'cancelled' : status.status} />}
        <span class="stream" aria-live="polite" data-stream={stream}>
          {stream === 'live' ? 'live' : stream === 'reconnecting' ? 'reconnecting…' : stream === 'connecting' ? 'connecting…' : ''}
        </span>
      </div>
      {deleted ? (
        <p role="status" data-testid="experiment-deleted">
          The experiment was deleted: its variants that were still queued or running were cancelled; their jobs and
          models stay (linked below). <a href="/ui/experiments">All experiments</a>
        </p>
      ) : (
        <ApiErrorBox error={error} title="The experiment could not be loaded" />
      )}
      {status && (
        <>
          <dl class="facts">
            <Fact term="Experiment">
              <code>{status.experimentId}</code>
            </Fact>
            <Fact term="Dataset">
              <DatasetLink id={status.datasetId} />
            </Fact>
            <Fact term="Template">{status.template ?? 'custom'}</Fact>
            <Fact term="Variants">{status.variants.length}</Fact>
            <Fact term="Created">{fmtDate(status.createdAt)}</Fact>
          </dl>
          {!deleted && (
            <div class="actions">
              <Report experimentId={status.experimentId} />
              <DeleteExperiment experimentId={status.experimentId} active={active} onDeleted={() => setDeleted(true)} />
            </div>
          )}
          <VariantsTable variants={status.variants} />
          <Curves variants={status.variants} />
          <TestMetricsTable variants={status.variants} />
          <DriftOverlay variants={status.variants} />
          <h2>Settings of each variant</h2>
          <div class="columns">
            {status.variants.map((v) => (
              <OptionsList key={v.name} caption={`${v.name}: the base with its fields merged in`} options={{ model: v.model, training: v.training }} />
            ))}
          </div>
        </>
      )}
    </section>
  );
}
