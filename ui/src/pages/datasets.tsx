// Datasets: upload a CSV (header row, label column chosen from it) or a JSON document, then see its
// statistics; the datasets this dashboard knows of, each with its page.
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, ApiRequestError } from '../api/client.js';
import { csvHeader, getDataset, knownDatasetIds, rememberUpload } from '../api/datasets.js';
import type { DatasetInfo } from '../api/types.js';
import { ApiErrorBox } from '../components/api-error.js';
import { DatasetLink } from '../components/facts.js';
import { useAsync } from '../components/use-async.js';
import { useTitle } from '../components/use-title.js';
import { fmtInt } from '../format.js';

export function DatasetsPage() {
  useTitle('Datasets');
  const known = useAsync(async (signal) => {
    const ids = await knownDatasetIds(signal);
    return Promise.all(ids.map((id) => getDataset(id, signal).then((info) => ({ id, info }), (error: unknown) => ({ id, error }))));
  }, []);
  return (
    <section>
      <h1>Datasets</h1>
      <UploadForm />
      <h2>Known datasets</h2>
      <p class="help">Built-in datasets, those of the models on this server and those uploaded from this tab.</p>
      <ApiErrorBox error={known.error} title="The datasets could not be listed" />
      {known.value && (
        <div class="table-wrap">
          <table class="list">
            <caption>Datasets ({known.value.length})</caption>
            <thead>
              <tr>
                <th scope="col">Dataset</th>
                <th scope="col">Name</th>
                <th scope="col">Rows</th>
                <th scope="col">Features</th>
                <th scope="col">Classes</th>
              </tr>
            </thead>
            <tbody>
              {known.value.map((d) => (
                <tr key={d.id}>
                  <td>
                    <DatasetLink id={d.id} />
                  </td>
                  {'info' in d ? (
                    <>
                      <td>{d.info.name ?? '–'}</td>
                      <td class="num">{fmtInt(d.info.rows)}</td>
                      <td class="num">{d.info.features}</td>
                      <td class="num">{d.info.classes ?? '–'}</td>
                    </>
                  ) : (
                    <td colSpan={4}>{(d.error as Error).message}</td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <OpenById />
    </section>
  );
}

function UploadForm() {
  const { route } = useLocation();
  const [file, setFile] = useState<File>();
  const [columns, setColumns] = useState<string[]>([]);
  const [label, setLabel] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const isCsv = !!file && !/\.json$/i.test(file.name) && file.type !== 'application/json';

  const choose = async (picked: File | undefined) => {
    setFile(picked);
    setError(undefined);
    setColumns([]);
    if (!picked || /\.json$/i.test(picked.name) || picked.type === 'application/json') return;
    const header = await csvHeader(picked);
    setColumns(header);
    // The usual place of the label: the last column.
    setLabel(header[header.length - 1] ?? '');
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!file) {
      setError(new ApiRequestError(400, 'choose a CSV or JSON file first', 'file'));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      let info: DatasetInfo;
      if (isCsv) {
        const query = new URLSearchParams({ label, ...(name.trim() && { name: name.trim() }) });
        info = await api<DatasetInfo>(`/v1/datasets?${query}`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: file });
      } else {
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(await file.text()) as Record<string, unknown>;
        } catch (err) {
          throw new ApiRequestError(400, `${file.name} is not JSON: ${(err as Error).message}`, 'file');
        }
        if (name.trim()) body = { ...body, name: name.trim() };
        info = await api<DatasetInfo>('/v1/datasets', { method: 'POST', json: body });
      }
      rememberUpload(info.id);
      route(`/ui/datasets/${encodeURIComponent(info.id)}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="upload" onSubmit={submit}>
      <h2>Upload</h2>
      <p class="help" id="upload-help">
        CSV with a header row and numbers only (one column is the label), or JSON{' '}
        <code>{'{"features": [[…], …], "labels": […], "featureNames"?: […]}'}</code>.
      </p>
      <div class="row">
        <div class="field">
          <label for="upload-file">File</label>
          <input
            id="upload-file"
            type="file"
            accept=".csv,.json,text/csv,application/json"
            aria-describedby="upload-help"
            onChange={(e) => void choose(e.currentTarget.files?.[0])}
          />
        </div>
        {isCsv && (
          <div class="field">
            <label for="upload-label">Label column</label>
            <select id="upload-label" value={label} onChange={(e) => setLabel(e.currentTarget.value)}>
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
          <input id="upload-name" type="text" maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </div>
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
