// Facts about a job, a model or a dataset as a definition list, and the links between them.
import type { ComponentChildren } from 'preact';
import type { ModelDetail } from '../api/types.js';
import { networkOf } from '../model-text.js';

export function Fact({ term, children }: { term: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

export function DatasetLink({ id }: { id: string }) {
  return (
    <a href={`/ui/datasets/${encodeURIComponent(id)}`}>
      <code>{id}</code>
    </a>
  );
}

/** The network and the dataset a model was trained on. */
export function ModelFacts({ model }: { model: ModelDetail }) {
  return (
    <>
      <Fact term="Network">{networkOf(model.inputDim, model.spec.hidden, model.outputDim, model.spec.batchNorm.enabled)}</Fact>
      <Fact term="Dataset">
        <DatasetLink id={model.datasetId} />
      </Fact>
    </>
  );
}
