// Cancelling a job, with a confirmation: one component for the job page and the jobs list. It stays mounted
// while its job is shown and takes the job's status as a prop, so an update of the status (a progress
// event, a refresh of the list) never throws an open confirmation away; a job that ends while the user
// confirms says so instead of the buttons vanishing under the pointer.
import { useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { JobStatus, ModelStatusName } from '../api/types.js';
import { ApiErrorBox } from './api-error.js';
import { isActive } from './status.js';

interface Props {
  jobId: string;
  status: ModelStatusName;
  /** The job as the DELETE answered it. */
  onCancelled: (s: JobStatus) => void;
  /** Names the job in the buttons' accessible names where several are on a page (the jobs list). */
  named?: boolean;
}

export function CancelJob({ jobId, status, onCancelled, named }: Props) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  // Sent and accepted (202): the worker stops the job after its current batch; the status follows.
  const [requested, setRequested] = useState(false);
  const active = isActive(status);
  const suffix = named ? ` ${jobId}` : '';
  const cancel = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const answer = await api<JobStatus>(`/v1/training-jobs/${jobId}`, { method: 'DELETE' });
      setRequested(true);
      setConfirming(false);
      onCancelled(answer);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (!active && !confirming && !error) return null;
  return (
    <div class="cancel">
      {!active ? (
        confirming && (
          <p role="status">
            The job ended ({status}) before it was cancelled.{' '}
            <button type="button" class="secondary" onClick={() => setConfirming(false)}>
              OK
            </button>
          </p>
        )
      ) : requested ? (
        <p role="status">Cancelling: the job stops after its current batch.</p>
      ) : !confirming ? (
        <button type="button" class="danger" onClick={() => setConfirming(true)} disabled={busy} aria-label={named ? `Cancel job${suffix}` : undefined}>
          Cancel job
        </button>
      ) : (
        <div role="group" aria-label={`Confirm cancellation${suffix}`}>
          <span>Stop training? The checkpoints saved so far are kept.</span>{' '}
          <button type="button" class="danger" onClick={cancel} disabled={busy} aria-label={named ? `Yes, cancel the job${suffix}` : undefined}>
            Yes, cancel the job
          </button>{' '}
          <button type="button" class="secondary" onClick={() => setConfirming(false)} disabled={busy}>
            Keep training
          </button>
        </div>
      )}
      <ApiErrorBox error={error} title="The job could not be cancelled" />
    </div>
  );
}
