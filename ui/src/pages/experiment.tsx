// One experiment: its variants side by side (status, progress, final and test metrics, duration, links),
// their curves overlaid, the drift of each layer per variant, the HTML report, and cancellation. Live over
// the experiment's event stream.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { TopLevelSpec } from 'vega-lite';
import { CHART_DATA, curvePoints, curveSpec } from '../../../src/charts/training-curves.js';
import { storedKey } from '../api/api-key.js';
import { getBnStats, layersOf, type BnStatsEpoch } from '../api/bn-stats.js';
import { FINAL_EVENTS } from '../api/job-events.js';
import {
  applyExperimentEvent,
  deleteExperiment,
  followExperiment,
  getExperiment,
  isFinished,
  reportUrl,
  type ExperimentStatus,
  type ExperimentVariantStatus,
} from '../api/experiments.js';
import { ApiErrorBox } from '../components/api-error.js';
import { DriftOverlayChart } from '../components/bn-charts.js';
import { Chart } from '../components/chart.js';
import { DownloadLink } from '../components/download-link.js';
import { DatasetLink, Fact } from '../components/facts.js';
import { OptionsList } from '../components/options.js';
import { StatusBadge, isActive } from '../components/status.js';
import { useTitle } from '../components/use-title.js';
import { fmt, fmtDate, fmtDuration } from '../format.js';

type Stream = 'connecting' | 'live' | 'reconnecting' | 'ended';

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
    (async () => {
      // An experiment that cannot be read (unknown id) has no stream either.
      const first = await getExperiment(experimentId, signal);
      if (signal.aborted) return;
      setStatus(first);
      await followExperiment(
        experimentId,
        {
          onEvent(event, data) {
            setStream(FINAL_EVENTS.has(event) ? 'ended' : 'live');
            setStatus((s) => applyExperimentEvent(s, event, data));
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
    return () => abort.abort();
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

function last(v: ExperimentVariantStatus) {
  return v.history?.[v.history.length - 1];
}

/** A variant that diverged is a result of the experiment: say where, and what its test metrics are of. */
function outcomeOf(v: ExperimentVariantStatus): string | undefined {
  const { diverged } = v as { diverged?: { epoch: number; lastFiniteEpoch: number } };
  if (diverged) return `diverged in epoch ${diverged.epoch}`;
  return v.status === 'failed' ? v.error : undefined;
}

function VariantsTable({ variants }: { variants: ExperimentVariantStatus[] }) {
  return (
    <div class="table-wrap">
      <table class="list numbers" data-testid="variants">
        <caption>Variants side by side</caption>
        <thead>
          <tr>
            <th scope="col" class="text">
              Variant
            </th>
            <th scope="col" class="text">
              Status
            </th>
            <th scope="col" class="text">
              Progress
            </th>
            <th scope="col">Final loss</th>
            <th scope="col">Final validation accuracy</th>
            <th scope="col">Test accuracy</th>
            <th scope="col">Duration</th>
            <th scope="col" class="text">
              Job, model
            </th>
          </tr>
        </thead>
        <tbody>
          {variants.map((v) => {
            const m = last(v);
            const outcome = outcomeOf(v);
            return (
              <tr key={v.name} data-variant={v.name}>
                <th scope="row" class="text">
                  {v.name}
                </th>
                <td class="text">
                  <StatusBadge status={v.status} />
                  {outcome && <div class="note">{outcome}</div>}
                </td>
                <td class="text">
                  <label class="progress-cell">
                    <span>
                      {v.progress.epoch} / {v.progress.epochs}
                    </span>
                    <progress max={v.progress.epochs} value={v.progress.epoch} aria-label={`${v.name}: epoch ${v.progress.epoch} of ${v.progress.epochs}`} />
                  </label>
                </td>
                <td>{fmt(m?.loss)}</td>
                <td>{fmt(m?.valAccuracy)}</td>
                <td data-testid="test-accuracy">{fmt(v.testMetrics?.accuracy)}</td>
                <td>{isActive(v.status) ? '–' : fmtDuration(v.durationMs)}</td>
                <td class="text">
                  <a href={`/ui/jobs/${v.jobId}`} aria-label={`job of ${v.name}`}>
                    job
                  </a>
                  {' · '}
                  <a href={`/ui/models/${v.modelId}`} aria-label={`model of ${v.name}`}>
                    model
                  </a>
                  {' · '}
                  <a href={`/ui/models/${v.modelId}/bn`} aria-label={`BN statistics of ${v.name}`}>
                    BN
                  </a>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Curves({ variants }: { variants: ExperimentVariantStatus[] }) {
  const epochs = Math.max(1, ...variants.map((v) => v.progress.epochs));
  const loss = useMemo(() => curveSpec(variants.flatMap((v) => curvePoints(v.history ?? [], 'loss', v.name)), 'loss', { epochs }), [variants, epochs]);
  const accuracy = useMemo(() => {
    const points = variants.flatMap((v) => curvePoints(v.history ?? [], 'accuracy', v.name).filter((p) => p.split === 'validation'));
    return { ...curveSpec(points, 'accuracy', { epochs }), title: 'Validation accuracy per epoch' } as TopLevelSpec;
  }, [variants, epochs]);
  const classification = variants.some((v) => v.history?.some((m) => m.valAccuracy !== undefined));
  return (
    <div class="charts">
      <Chart name="loss" spec={loss} dataset={CHART_DATA} caption="Loss per epoch, one colour per variant: training solid, validation dashed" />
      {classification && <Chart name="val-accuracy" spec={accuracy} dataset={CHART_DATA} caption="Validation accuracy per epoch (frozen statistics), one colour per variant" />}
    </div>
  );
}

function TestMetricsTable({ variants }: { variants: ExperimentVariantStatus[] }) {
  if (!variants.some((v) => v.testMetrics)) {
    return <p class="help">Test metrics appear here for each variant that finishes on a dataset with a test part.</p>;
  }
  return (
    <div class="table-wrap">
      <table class="list numbers" data-testid="test-metrics">
        <caption>Test metrics (the dataset's test part, frozen statistics)</caption>
        <thead>
          <tr>
            <th scope="col" class="text">
              Variant
            </th>
            <th scope="col">Checkpoint</th>
            <th scope="col" class="text">
              Of
            </th>
            <th scope="col">Rows</th>
            <th scope="col">Loss</th>
            <th scope="col">Accuracy</th>
          </tr>
        </thead>
        <tbody>
          {variants.map((v) => (
            <tr key={v.name}>
              <th scope="row" class="text">
                {v.name}
              </th>
              {v.testMetrics ? (
                <>
                  <td>{v.testMetrics.checkpoint}</td>
                  <td class="text">{testMetricsOf(v)}</td>
                  <td>{v.testMetrics.rows}</td>
                  <td>{fmt(v.testMetrics.loss)}</td>
                  <td>{fmt(v.testMetrics.accuracy)}</td>
                </>
              ) : (
                <td colSpan={5} class="text">
                  {outcomeOf(v) ?? (isActive(v.status) ? 'not finished' : 'none')}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A diverged variant is measured at its last finite checkpoint, which the table must not pass off as final. */
function testMetricsOf(v: ExperimentVariantStatus): string {
  const of = (v as { testMetricsOf?: string }).testMetricsOf;
  return of === 'last-finite-checkpoint' ? 'the last finite checkpoint (diverged after it)' : 'the last epoch trained';
}

/** Each variant's bn-stats, fetched again whenever a variant has finished another epoch. */
function DriftOverlay({ variants }: { variants: ExperimentVariantStatus[] }) {
  const [stats, setStats] = useState<Map<string, BnStatsEpoch[]>>(new Map());
  const [error, setError] = useState<unknown>();
  const progressKey = variants.map((v) => `${v.modelId}:${v.progress.epoch}:${v.status}`).join(',');
  const fetched = useRef(new Map<string, string>());

  useEffect(() => {
    const abort = new AbortController();
    const stale = variants.filter((v) => fetched.current.get(v.modelId) !== `${v.progress.epoch}:${v.status}`);
    void Promise.all(
      stale.map(async (v) => {
        try {
          const response = await getBnStats(v.modelId, undefined, abort.signal);
          fetched.current.set(v.modelId, `${v.progress.epoch}:${v.status}`);
          return [v.name, response.epochs] as const;
        } catch (err) {
          if (!abort.signal.aborted) setError(err);
          return undefined;
        }
      }),
    ).then((got) => {
      if (abort.signal.aborted) return;
      setStats((old) => {
        const next = new Map(old);
        for (const g of got) if (g) next.set(g[0], g[1]);
        return next;
      });
    });
    return () => abort.abort();
  }, [progressKey]);

  const overlay = useMemo(() => {
    const shown = variants.flatMap((v) => {
      const epochs = stats.get(v.name);
      return epochs && epochs.length > 0 ? [{ variant: v.name, epochs }] : [];
    });
    const layers = [...new Set(shown.flatMap((v) => layersOf(v.epochs).map((l) => l.layer)))].sort((a, b) => a - b);
    return { shown, layers };
  }, [stats, variants]);
  const planned = Math.max(1, ...variants.map((v) => v.progress.epochs));

  if (overlay.layers.length === 0 && !error) return null;
  return (
    <>
      <h2>Drift per layer</h2>
      <p class="help">
        How far each layer's input distribution moved from one epoch to the next (the median unit's change of mean, in
        its previous standard deviations), per variant: BN should keep it small. Layers are numbered from 0, nearest the
        input.
      </p>
      <ApiErrorBox error={error} title="The BN statistics of a variant could not be loaded" />
      <div class="charts">
        {overlay.layers.map((layer) => (
          <DriftOverlayChart key={layer} layer={layer} variants={overlay.shown} planned={planned} />
        ))}
      </div>
    </>
  );
}

/**
 * The report is a page of the API: a plain link opens it where the API needs no key. With a key (a new
 * tab cannot send it) it is downloaded with the key instead and opens from the file.
 */
function Report({ experimentId }: { experimentId: string }) {
  const [error, setError] = useState<unknown>();
  const href = reportUrl(experimentId);
  const needsKey = storedKey() !== null;
  return (
    <span class="report-links">
      {!needsKey && (
        <a class="button" href={href} target="_blank" rel="noopener">
          Open the report
        </a>
      )}{' '}
      <DownloadLink href={href} fileName={`${experimentId}-report.html`} label="Download the report (HTML)" onError={setError}>
        Download the report (HTML)
      </DownloadLink>
      {needsKey && <span class="help"> (the report needs the API key, which a new tab cannot send: open the downloaded file)</span>}
      <ApiErrorBox error={error} title="The report could not be downloaded" />
    </span>
  );
}

function DeleteExperiment({ experimentId, active, onDeleted }: { experimentId: string; active: boolean; onDeleted: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const what = active ? 'Cancel the experiment' : 'Delete the experiment';
  const confirm = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await deleteExperiment(experimentId);
      onDeleted();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };
  return (
    <div class="cancel">
      {!confirming ? (
        <button type="button" class="danger" onClick={() => setConfirming(true)} disabled={busy}>
          {what}
        </button>
      ) : (
        <div role="group" aria-label="Confirm">
          <span>
            {active ? 'Stop every variant still queued or running and delete the experiment?' : 'Delete the experiment?'} The
            variants' jobs and models are kept.
          </span>{' '}
          <button type="button" class="danger" onClick={confirm} disabled={busy}>
            Yes, {what.toLowerCase()}
          </button>{' '}
          <button type="button" class="secondary" onClick={() => setConfirming(false)} disabled={busy}>
            Keep it
          </button>
        </div>
      )}
      <ApiErrorBox error={error} title="The experiment could not be deleted" />
    </div>
  );
}
