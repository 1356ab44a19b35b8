// An experiment's report (opened or downloaded) and its cancellation.
import { useState } from 'preact/hooks';
import { storedKey } from '../api/api-key.js';
import { deleteExperiment, reportUrl } from '../api/experiments.js';
import { ApiErrorBox } from './api-error.js';
import { DownloadLink } from './download-link.js';

/**
 * The report is a page of the API: a plain link opens it where the API needs no key. With a key (a new
 * tab cannot send it) it is downloaded with the key instead and opens from the file.
 */
export function Report({ experimentId }: { experimentId: string }) {
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

export function DeleteExperiment({ experimentId, active, onDeleted }: { experimentId: string; active: boolean; onDeleted: () => void }) {
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

