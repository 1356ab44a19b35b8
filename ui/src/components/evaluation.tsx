// Metrics of a checkpoint on a dataset split (an evaluation, or the test metrics a job records at its
// end): rows, loss, accuracy and the confusion matrix as a table (rows: label, columns: predicted class).
import type { EvaluationResult } from '../../../src/schemas/evaluation.js';
import { fmt, fmtInt } from '../format.js';
import { Fact } from './facts.js';

export function EvaluationView({ result, caption, testId }: { result: EvaluationResult; caption: string; testId?: string }) {
  const m = result.confusionMatrix;
  return (
    <div class="result" data-testid={testId}>
      <h3>{caption}</h3>
      <dl class="facts">
        <Fact term="Rows">{fmtInt(result.rows)}</Fact>
        <Fact term="Loss">{fmt(result.loss)}</Fact>
        {result.accuracy !== undefined && <Fact term="Accuracy">{fmt(result.accuracy)}</Fact>}
      </dl>
      {m && (
        <div class="table-wrap">
          <table class="list numbers confusion" data-testid={testId && `${testId}-confusion`}>
            <caption>Confusion matrix: rows are the label, columns the predicted class</caption>
            <thead>
              <tr>
                <th scope="col">Label \ predicted</th>
                {m.map((_, k) => (
                  <th scope="col" key={k}>
                    {k}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {m.map((row, label) => (
                <tr key={label}>
                  <th scope="row">{label}</th>
                  {row.map((n, k) => (
                    <td key={k} class={k === label ? 'hit' : undefined}>
                      {n}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
