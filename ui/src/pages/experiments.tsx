// Experiments: every experiment, newest first, a page at a time; a form that starts the bn-comparisons
// template on a dataset; custom experiments (base + variants) are described in the API docs.
import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { ApiRequestError } from '../api/client.js';
import { knownDatasetIds } from '../api/datasets.js';
import { listExperiments, startComparisons, type ExperimentListItem } from '../api/experiments.js';
import { ApiErrorBox } from '../components/api-error.js';
import { DatasetLink } from '../components/facts.js';
import { Pager, usePages } from '../components/pager.js';
import { StatusBadge } from '../components/status.js';
import { useAsync } from '../components/use-async.js';
import { useTitle } from '../components/use-title.js';
import { fmtDate } from '../format.js';

const PAGE_SIZE = 20;
/** The template's datasets: 784 pixels in, ten classes out. */
const IMAGE_SETS = ['builtin:mnist', 'builtin:fashion-mnist'];

export function ExperimentsPage() {
  useTitle('Experiments');
  const pages = usePages();
  const list = useAsync((signal) => listExperiments(pages.cursor, PAGE_SIZE, signal), [pages.cursor]);
  const items = list.value?.experiments;
  const pageNumber = pages.index + 1;

  return (
    <section>
      <div class="page-head">
        <h1>Experiments</h1>
        <div class="actions">
          <button type="button" class="secondary" onClick={list.reload} disabled={list.loading}>
            Refresh
          </button>
        </div>
      </div>
      <p class="help">
        An experiment trains several variants of one network on one dataset with one seed and compares them. Start the
        BN comparisons below, or a custom one (a base and its variants) with <code>POST /v1/experiments</code>: see the{' '}
        <a href="/docs#/experiments" target="_blank" rel="noopener">
          API docs
        </a>
        .
      </p>
      <StartComparisons />
      <h2>All experiments</h2>
      <ApiErrorBox error={list.error} title="The experiments could not be listed" />
      {items && items.length === 0 && pageNumber === 1 && <p>No experiment yet.</p>}
      {items && items.length > 0 && (
        <div class="table-wrap">
          <table class="list" data-testid="experiments">
            <caption>
              Experiments, newest first (page {pageNumber}, {items.length} shown)
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Dataset</th>
                <th scope="col">Status</th>
                <th scope="col">Variants</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <ExperimentRow key={e.experimentId} experiment={e} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager pages={pages} nextCursor={list.value?.nextCursor} label="Experiment" />
    </section>
  );
}

function ExperimentRow({ experiment: e }: { experiment: ExperimentListItem }) {
  const variants = e.variants.map((v) => v.name).join(', ');
  return (
    <tr>
      <td>
        <a href={`/ui/experiments/${encodeURIComponent(e.experimentId)}`}>{e.name}</a>
      </td>
      <td>
        <DatasetLink id={e.datasetId} />
      </td>
      <td>
        <StatusBadge status={e.status} />
      </td>
      <td class="wrap">{variants}</td>
      <td>{fmtDate(e.createdAt)}</td>
    </tr>
  );
}

function StartComparisons() {
  const { route } = useLocation();
  const [datasetId, setDatasetId] = useState(IMAGE_SETS[0]);
  const [epochs, setEpochs] = useState('3');
  const [name, setName] = useState('');
  const [datasets, setDatasets] = useState<string[]>(IMAGE_SETS);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const invalid = error instanceof ApiRequestError ? error.problems.map((p) => p.field ?? '') : [];
  const isInvalid = (field: string) => invalid.some((f) => f === field || f.endsWith(`.${field}`)) || undefined;

  useEffect(() => {
    const abort = new AbortController();
    knownDatasetIds(abort.signal).then(
      (ids) => setDatasets([...new Set([...IMAGE_SETS, ...ids])]),
      (err: unknown) => console.warn('the dataset suggestions could not be loaded', err),
    );
    return () => abort.abort();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    const n = Number(epochs);
    if (epochs.trim() !== '' && (!Number.isInteger(n) || n < 1)) {
      setError(new ApiRequestError(400, 'epochs must be a whole number of at least 1 (or empty for the template\'s 10)', 'epochs'));
      return;
    }
    setBusy(true);
    try {
      const accepted = await startComparisons(datasetId.trim(), epochs.trim() === '' ? undefined : n, name.trim() || undefined);
      route(`/ui/experiments/${encodeURIComponent(accepted.experimentId)}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="start-experiment" onSubmit={submit}>
      <h2>BN comparisons</h2>
      <p class="help" id="comparisons-help">
        Eight variants of a 784-256-128-64-10 ReLU network, each without and with BN: plain convergence, learning rate 1,
        weights uniform(−5, 5), and raw 0-255 pixels. For an image dataset of 784 pixels and ten classes.
      </p>
      <div class="row">
        <div class="field">
          <label for="exp-dataset">Dataset</label>
          <input
            id="exp-dataset"
            type="text"
            list="exp-datasets"
            required
            value={datasetId}
            aria-describedby="comparisons-help"
            aria-invalid={isInvalid('datasetId')}
            onInput={(e) => setDatasetId(e.currentTarget.value)}
          />
          <datalist id="exp-datasets">
            {datasets.map((id) => (
              <option key={id} value={id} />
            ))}
          </datalist>
        </div>
        <div class="field">
          <label for="exp-epochs">Epochs per variant</label>
          <input
            id="exp-epochs"
            type="number"
            min={1}
            step={1}
            value={epochs}
            aria-invalid={isInvalid('epochs')}
            onInput={(e) => setEpochs(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="exp-name">Name (optional)</label>
          <input id="exp-name" type="text" maxLength={64} value={name} aria-invalid={isInvalid('name')} onInput={(e) => setName(e.currentTarget.value)} />
        </div>
      </div>
      <div class="actions">
        <button type="submit" disabled={busy}>
          Start the comparisons
        </button>
      </div>
      <ApiErrorBox error={error} title="The experiment was not started" />
    </form>
  );
}
