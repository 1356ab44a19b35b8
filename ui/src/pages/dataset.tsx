// One dataset: its size, classes and per-feature statistics (population standard deviation).
import { getDataset } from '../api/datasets.js';
import { ApiErrorBox } from '../components/api-error.js';
import { Fact } from '../components/facts.js';
import { useAsync } from '../components/use-async.js';
import { useTitle } from '../components/use-title.js';
import { fmt, fmtDate, fmtInt } from '../format.js';

export function DatasetPage({ datasetId }: { datasetId: string }) {
  const id = decodeURIComponent(datasetId);
  useTitle(`Dataset ${id}`);
  const dataset = useAsync((signal) => getDataset(id, signal), [id]);
  const d = dataset.value;
  return (
    <section>
      <div class="page-head">
        <h1>
          Dataset <code>{id}</code>
        </h1>
        {d && (
          <a class="button" href={`/ui/jobs/new?dataset=${encodeURIComponent(id)}`}>
            Train a model on it
          </a>
        )}
      </div>
      <ApiErrorBox error={dataset.error} title="The dataset could not be loaded" />
      {d && (
        <>
          <dl class="facts">
            {d.name && (
              <Fact term="Name">{d.name}</Fact>
            )}
            <Fact term="Rows">{fmtInt(d.rows)}</Fact>
            <Fact term="Features">{d.features}</Fact>
            <Fact term="Classes">{d.classes ?? 'none (labels are not all integers ≥ 0: a regression target)'}</Fact>
            <Fact term="Created">{fmtDate(d.createdAt)}</Fact>
          </dl>
          <div class="table-wrap">
            <table class="list numbers" data-testid="feature-stats">
              <caption>Statistics per feature</caption>
              <thead>
                <tr>
                  <th scope="col">Feature</th>
                  <th scope="col">Mean</th>
                  <th scope="col">Std</th>
                  <th scope="col">Min</th>
                  <th scope="col">Max</th>
                </tr>
              </thead>
              <tbody>
                {d.stats.mean.map((mean, j) => (
                  <tr key={j}>
                    <th scope="row">{d.featureNames?.[j] ?? `x[${j}]`}</th>
                    <td>{fmt(mean)}</td>
                    <td>{fmt(d.stats.std[j])}</td>
                    <td>{fmt(d.stats.min[j])}</td>
                    <td>{fmt(d.stats.max[j])}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
