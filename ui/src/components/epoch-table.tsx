// Per-epoch metrics as a table: the numbers behind the curves (and what a screen reader gets of them).
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { EpochMetrics } from '../api/types.js';
import { fmt, fmtDuration, fmtInt } from '../format.js';

interface Props {
  history: readonly EpochMetrics[];
  caption: string;
  /** Inside a closed <details> (the job page, where the curves come first). */
  collapsed?: boolean;
  /** Show only the newest `limit` epochs until asked for all. */
  limit?: number;
  /** An extra cell per epoch (the model page's downloads). */
  extra?: { header: string; cell: (m: EpochMetrics) => ComponentChildren };
}

export function EpochTable({ history, caption, collapsed, limit, extra }: Props) {
  const [all, setAll] = useState(false);
  const hasAcc = history.some((m) => m.accuracy !== undefined);
  const hasVal = history.some((m) => m.valLoss !== undefined);
  const newestFirst = [...history].reverse();
  const rows = limit !== undefined && !all ? newestFirst.slice(0, limit) : newestFirst;
  const table = (
    <div class="table-wrap">
      <table class="list numbers">
        <caption>{caption}, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Epoch</th>
            <th scope="col">Loss</th>
            {hasVal && <th scope="col">Validation loss</th>}
            {hasAcc && <th scope="col">Accuracy</th>}
            {hasAcc && hasVal && <th scope="col">Validation accuracy</th>}
            <th scope="col">Samples/s</th>
            <th scope="col">Duration</th>
            {extra && (
              <th scope="col" class="text">
                {extra.header}
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {rows.map((m) => (
            <tr key={m.epoch}>
              <th scope="row">{m.epoch}</th>
              <td>{fmt(m.loss)}</td>
              {hasVal && <td>{fmt(m.valLoss)}</td>}
              {hasAcc && <td>{fmt(m.accuracy)}</td>}
              {hasAcc && hasVal && <td>{fmt(m.valAccuracy)}</td>}
              <td>{fmtInt(m.samplesPerSecond)}</td>
              <td>{fmtDuration(m.durationMs)}</td>
              {extra && <td class="text">{extra.cell(m)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length < history.length && (
        <button type="button" class="secondary" onClick={() => setAll(true)}>
          Show all {history.length} epochs
        </button>
      )}
    </div>
  );
  if (!collapsed) return table;
  return (
    <details class="values">
      <summary>
        {caption} ({history.length})
      </summary>
      {table}
    </details>
  );
}
