// An experiment's variants side by side: status (a diverged variant says where), progress, final and test
// metrics, duration, links; their curves overlaid; the test metrics with what they were measured on.
import { useMemo } from 'preact/hooks';
import type { TopLevelSpec } from 'vega-lite';
import { CHART_DATA, curvePoints, curveSpec } from '../../../src/charts/training-curves.js';
import type { ExperimentVariantStatus } from '../api/experiments.js';
import { fmt, fmtDuration } from '../format.js';
import { Chart } from './chart.js';
import { StatusBadge, isActive } from './status.js';

function last(v: ExperimentVariantStatus) {
  return v.history?.[v.history.length - 1];
}

/** A variant that diverged is a result of the experiment: say where, and what its test metrics are of. */
function outcomeOf(v: ExperimentVariantStatus): string | undefined {
  if (v.diverged) return `diverged in epoch ${v.diverged.epoch}`;
  return v.status === 'failed' ? v.error : undefined;
}

export function VariantsTable({ variants }: { variants: ExperimentVariantStatus[] }) {
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
                  {outcome && <div class="variant-note">{outcome}</div>}
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

export function Curves({ variants }: { variants: ExperimentVariantStatus[] }) {
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

export function TestMetricsTable({ variants }: { variants: ExperimentVariantStatus[] }) {
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
  return v.testMetricsOf === 'last-finite-checkpoint' ? 'the last finite checkpoint (diverged after it)' : 'the last epoch trained';
}

