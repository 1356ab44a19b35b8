// Datasets: the API's list (paginated), and an upload of a JSON document or of files (CSV, NPY or IDX,
// gzip allowed): features with their labels (a labels file, or a CSV column chosen from the header row),
// optionally a held-out test part. An error names the file or field it is about, which is marked.
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, ApiRequestError } from '../api/client.js';
import { csvHeader, listDatasets } from '../api/datasets.js';
import type { DatasetInfo } from '../api/types.js';
import { ApiErrorBox } from '../components/api-error.js';
import { DatasetLink } from '../components/facts.js';
import { Pager, usePages } from '../components/pager.js';
import { useAsync } from '../components/use-async.js';
import { useTitle } from '../components/use-title.js';
import { fmtDate, fmtInt } from '../format.js';

const DATASETS_PER_PAGE = 20;

export function DatasetsPage() {
  useTitle('Datasets');
  const pages = usePages();
  const list = useAsync((signal) => listDatasets(pages.cursor, DATASETS_PER_PAGE, signal), [pages.cursor]);
  const datasets = list.value?.datasets;
  return (
    <section>
      <h1>Datasets</h1>
      <UploadForm />
      <h2>Datasets on this server</h2>
      <p class="help">Uploads, newest first, then the built-in datasets.</p>
      <ApiErrorBox error={list.error} title="The datasets could not be listed" />
      {datasets && (
        <div class="table-wrap">
          <table class="list" data-testid="datasets">
            <caption>Datasets (page {pages.index + 1})</caption>
            <thead>
              <tr>
                <th scope="col">Dataset</th>
                <th scope="col">Name</th>
                <th scope="col">Rows</th>
                <th scope="col">Test rows</th>
                <th scope="col">Features</th>
                <th scope="col">Classes</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {datasets.map((d) => (
                <tr key={d.id}>
                  <td>
                    <DatasetLink id={d.id} />
                  </td>
                  <td>{d.name ?? '–'}</td>
                  <td class="num">{fmtInt(d.rows)}</td>
                  <td class="num">{d.test ? fmtInt(d.test.rows) : '–'}</td>
                  <td class="num">{d.features}</td>
                  <td class="num">{d.classes ?? '–'}</td>
                  <td>{fmtDate(d.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager pages={pages} nextCursor={list.value?.nextCursor} label="Datasets" />
      <OpenById />
    </section>
  );
}

/** The files of the multipart form, by the field the API reads them from. */
const FILES = [
  { field: 'features', label: 'Features file', help: 'CSV (header row optional), NPY (n, …) or IDX (n, …); .gz allowed. Or a JSON document {features, labels}.' },
  { field: 'labels', label: 'Labels file (not needed for a CSV whose labels are one of its columns)', help: 'One label per row: CSV, NPY (n,) or IDX (n,); .gz allowed.' },
  { field: 'testFeatures', label: 'Test features file (optional)', help: 'A held-out test part, never trained on (POST /v1/models/:id/evaluate).' },
  { field: 'testLabels', label: 'Test labels file (optional)', help: 'The labels of the test part.' },
] as const;
type FileField = (typeof FILES)[number]['field'];

const isJson = (f: File) => /\.json$/i.test(f.name) || f.type === 'application/json';
const isCsv = (f: File) => /\.csv(\.gz)?$/i.test(f.name) || f.type === 'text/csv';
/** The control of an error's field: the file fields and value fields by name; a CSV's label column by its select. */
const controlOf = (field: string | undefined) => (field === 'labelColumn' ? 'upload-label' : field ? `upload-${field}` : undefined);

function UploadForm() {
  const { route } = useLocation();
  const [files, setFiles] = useState<Partial<Record<FileField, File>>>({});
  const [columns, setColumns] = useState<string[]>([]);
  const [label, setLabel] = useState('');
  const [name, setName] = useState('');
  const [scale, setScale] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const features = files.features;
  const json = !!features && isJson(features);
  // A CSV features file without a labels file: its labels are one of its columns.
  const labelColumn = !!features && isCsv(features) && !files.labels;
  const bad = controlOf(error instanceof ApiRequestError ? error.field : undefined);

  const choose = async (field: FileField, picked: File | undefined) => {
    setFiles((f) => ({ ...f, [field]: picked }));
    setError(undefined);
    if (field !== 'features') return;
    setColumns([]);
    if (!picked || !isCsv(picked)) return;
    try {
      const header = await csvHeader(picked);
      setColumns(header);
      // The usual place of the label: the last column.
      setLabel(header[header.length - 1] ?? '');
    } catch (err) {
      setError(new ApiRequestError(400, `${picked.name}: the header row could not be read (${(err as Error).message})`, 'features'));
    }
  };

  const upload = async (): Promise<DatasetInfo> => {
    if (!features) throw new ApiRequestError(400, 'choose a features file (or a JSON document) first', 'features');
    if (json) {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(await features.text()) as Record<string, unknown>;
      } catch (err) {
        throw new ApiRequestError(400, `${features.name} is not JSON: ${(err as Error).message}`, 'features');
      }
      if (name.trim()) body = { ...body, name: name.trim() };
      return api<DatasetInfo>('/v1/datasets', { method: 'POST', json: body });
    }
    // Value fields go first: the server reads the files as they stream in, with the label column known.
    const form = new FormData();
    if (name.trim()) form.append('name', name.trim());
    if (labelColumn && label) form.append('label', label);
    if (scale.trim()) form.append('scale', scale.trim());
    for (const { field } of FILES) {
      const f = files[field];
      if (f) form.append(field, f, f.name);
    }
    return api<DatasetInfo>('/v1/datasets', { method: 'POST', body: form });
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const info = await upload();
      route(`/ui/datasets/${encodeURIComponent(info.id)}`);
    } catch (err) {
      setError(err);
      const id = controlOf(err instanceof ApiRequestError ? err.field : undefined);
      if (id) document.getElementById(id)?.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="upload" onSubmit={submit} noValidate>
      <h2>Upload</h2>
      <p class="help">
        Files as the API takes them (<code>multipart/form-data</code>): features and labels, each CSV, NPY or IDX, gzipped or
        not, optionally a test part; or a JSON document <code>{'{"features": [[…], …], "labels": […], "featureNames"?: […]}'}</code>.
      </p>
      <div class="row">
        {FILES.map(({ field, label: text, help }) => (
          <div class="field" key={field}>
            <label for={`upload-${field}`}>{text}</label>
            <input
              id={`upload-${field}`}
              type="file"
              accept={field === 'features' ? '.csv,.npy,.idx,.gz,.json,text/csv,application/json' : '.csv,.npy,.idx,.gz,text/csv'}
              aria-describedby={`upload-${field}-help`}
              aria-invalid={bad === `upload-${field}` ? 'true' : undefined}
              disabled={json && field !== 'features'}
              onChange={(e) => void choose(field, e.currentTarget.files?.[0])}
            />
            <p class="help" id={`upload-${field}-help`}>
              {help}
            </p>
          </div>
        ))}
      </div>
      <div class="row">
        {labelColumn && (
          <div class="field">
            <label for="upload-label">Label column</label>
            <select id="upload-label" value={label} aria-invalid={bad === 'upload-label' ? 'true' : undefined} onChange={(e) => setLabel(e.currentTarget.value)}>
              {columns.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </div>
        )}
        <div class="field">
          <label for="upload-name">Name (optional)</label>
          <input id="upload-name" type="text" maxLength={200} value={name} aria-invalid={bad === 'upload-name' ? 'true' : undefined} onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        {!json && (
          <div class="field">
            <label for="upload-scale">Scale (optional)</label>
            <input
              id="upload-scale"
              type="text"
              inputMode="decimal"
              placeholder="1"
              aria-describedby="upload-scale-help"
              aria-invalid={bad === 'upload-scale' ? 'true' : undefined}
              value={scale}
              onInput={(e) => setScale(e.currentTarget.value)}
            />
            <p class="help" id="upload-scale-help">
              Multiplies every feature value, e.g. 0.00392156862745098 (1/255) for pixels in [0, 1].
            </p>
          </div>
        )}
      </div>
      <div class="actions">
        <button type="submit" disabled={busy}>
          Upload
        </button>
      </div>
      <ApiErrorBox error={error} title="The dataset was not stored" />
    </form>
  );
}

function OpenById() {
  const { route } = useLocation();
  const [id, setId] = useState('');
  return (
    <form
      class="open-by-id"
      onSubmit={(e) => {
        e.preventDefault();
        if (id.trim()) route(`/ui/datasets/${encodeURIComponent(id.trim())}`);
      }}
    >
      <div class="row">
        <div class="field">
          <label for="open-dataset">Open a dataset by id</label>
          <input id="open-dataset" type="text" placeholder="ds_… or builtin:…" value={id} onInput={(e) => setId(e.currentTarget.value)} />
        </div>
      </div>
      <div class="actions">
        <button type="submit" class="secondary">
          Open
        </button>
      </div>
    </form>
  );
}
