// Every training job, newest first, a page at a time: status, progress, speed, elapsed time and the time
// left, and cancellation from the list. The page refreshes itself while a job on it is queued or running.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { JobList, JobStatus, JobSummary } from '../api/types.js';
import { ApiErrorBox } from '../components/api-error.js';
import { CancelJob } from '../components/cancel-job.js';
import { Pager, usePages } from '../components/pager.js';
import { StatusBadge, isActive } from '../components/status.js';
import { useAsync } from '../components/use-async.js';
import { useTitle } from '../components/use-title.js';
import { fmtDuration, fmtInt } from '../format.js';
import { elapsedMs, remainingFromProgressMs } from '../jobs/timing.js';

export const JOBS_PER_PAGE = 20;
const REFRESH_MS = 3000;

export function JobsPage() {
  useTitle('Training jobs');
  const pages = usePages();
  const list = useAsync(
    (signal) => api<JobList>(`/v1/training-jobs?${new URLSearchParams({ limit: String(JOBS_PER_PAGE), ...(pages.cursor && { cursor: pages.cursor }) })}`, { signal }),
    [pages.cursor],
  );
  // Answers of cancellations, newer than the list until it is loaded again.
  const [cancelled, setCancelled] = useState<Record<string, JobStatus>>({});
  const [now, setNow] = useState(Date.now());
  const jobs = (list.value?.jobs ?? []).map((j) => cancelled[j.jobId] ?? j);
  const anyActive = jobs.some((j) => isActive(j.status));

  const { reload } = list;
  // A refresh waits for the one in flight (a reload would abort it: a slow server would never answer one).
  const loading = useRef(list.loading);
  loading.current = list.loading;
  useEffect(() => {
    if (!anyActive) return;
    const tick = setInterval(() => setNow(Date.now()), 1000);
    const refresh = setInterval(() => !loading.current && reload(), REFRESH_MS);
    return () => {
      clearInterval(tick);
      clearInterval(refresh);
    };
  }, [anyActive, reload]);
  useEffect(() => setCancelled({}), [list.value]);

  return (
    <section>
      <div class="page-head">
        <h1>Training jobs</h1>
        <div class="actions">
          <a class="button" href="/ui/jobs/new">
            New training job
          </a>
          <button type="button" class="secondary" onClick={list.reload} disabled={list.loading}>
            Refresh
          </button>
        </div>
      </div>
      <ApiErrorBox error={list.error} title="The jobs could not be listed" />
      {list.value && jobs.length === 0 && pages.index === 0 && (
        <p>
          No training job yet. <a href="/ui/jobs/new">Start one</a>.
        </p>
      )}
      {jobs.length > 0 && (
        <div class="table-wrap">
          <table class="list" data-testid="jobs">
            <caption>Training jobs, newest first (page {pages.index + 1})</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Samples/s</th>
                <th scope="col">Elapsed</th>
                <th scope="col">Time left</th>
                <th scope="col">Model</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((j) => (
                <JobRow key={j.jobId} job={j} now={now} onCancelled={(s) => setCancelled((c) => ({ ...c, [s.jobId]: s }))} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager pages={pages} nextCursor={list.value?.nextCursor} label="Training jobs" />
    </section>
  );
}

function JobRow({ job, now, onCancelled }: { job: JobSummary; now: number; onCancelled: (s: JobStatus) => void }) {
  const p = job.progress;
  const inEpoch = p.batches && p.batch !== undefined && p.batch < p.batches ? `, batch ${p.batch} of ${p.batches}` : '';
  const left = remainingFromProgressMs(job, now);
  return (
    <tr data-job={job.jobId}>
      <td>
        <a href={`/ui/jobs/${job.jobId}`}>
          <code>{job.jobId}</code>
        </a>
      </td>
      <td>
        <StatusBadge status={job.status} />
      </td>
      <td>
        epoch {p.epoch} of {p.epochs}
        {inEpoch}
      </td>
      <td class="num">{fmtInt(p.samplesPerSecond)}</td>
      <td class="num">{fmtDuration(elapsedMs(job, now))}</td>
      <td class="num">{left === undefined ? '–' : `about ${fmtDuration(left)}`}</td>
      <td>
        <a href={`/ui/models/${job.modelId}`}>
          <code>{job.modelId}</code>
        </a>
      </td>
      <td>
        <CancelJob jobId={job.jobId} status={job.status} onCancelled={onCancelled} named />
      </td>
    </tr>
  );
}
