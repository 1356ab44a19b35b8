// Every model, newest first, with its job's status: the way into a job's curves and a model's predictions.
import { api } from '../api/client.js';
import type { ModelSummary } from '../api/types.js';
import { ApiErrorBox } from '../components/api-error.js';
import { DatasetLink } from '../components/facts.js';
import { StatusBadge } from '../components/status.js';
import { useAsync } from '../components/use-async.js';
import { useTitle } from '../components/use-title.js';
import { fmtDate } from '../format.js';
import { networkOf } from '../model-text.js';

export function ModelsPage() {
  useTitle('Models');
  const models = useAsync((signal) => api<{ models: ModelSummary[] }>('/v1/models', { signal }), []);
  const list = models.value?.models;
  return (
    <section>
      <div class="page-head">
        <h1>Models</h1>
        <div class="actions">
          <a class="button" href="/ui/jobs/new">
            New training job
          </a>
          <button type="button" class="secondary" onClick={models.reload} disabled={models.loading}>
            Refresh
          </button>
        </div>
      </div>
      <ApiErrorBox error={models.error} title="The models could not be listed" />
      {list && list.length === 0 && (
        <p>
          No model yet. <a href="/ui/datasets">Upload a dataset</a> or start a <a href="/ui/jobs/new">training job</a> on a
          built-in one.
        </p>
      )}
      {list && list.length > 0 && (
        <div class="table-wrap">
          <table class="list" data-testid="models">
            <caption>Models, newest first ({list.length})</caption>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Training job</th>
                <th scope="col">Task</th>
                <th scope="col">Network</th>
                <th scope="col">Dataset</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {list.map((m) => (
                <tr key={m.modelId}>
                  <td>
                    <a href={`/ui/models/${m.modelId}`}>
                      <code>{m.modelId}</code>
                    </a>
                  </td>
                  <td>
                    <a href={`/ui/jobs/${m.jobId}`} aria-label={`job ${m.jobId}: ${m.status}`}>
                      <StatusBadge status={m.status} />
                    </a>
                  </td>
                  <td>{m.task}</td>
                  <td>{networkOf(m.inputDim, m.hidden, m.outputDim)}</td>
                  <td>
                    <DatasetLink id={m.datasetId} />
                  </td>
                  <td>{fmtDate(m.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
