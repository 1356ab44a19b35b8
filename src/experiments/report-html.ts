// The report as one self-contained HTML page: inline CSS, the charts as inline SVG (rendered on the
// server from their Vega-Lite specifications), no script and nothing loaded from anywhere, so the file
// can be saved, mailed and opened offline.
import type { ExperimentReport, ExperimentReportRow } from '../schemas/experiment.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]);

const fixed = (v: number | undefined, digits = 4) => (v === undefined || !Number.isFinite(v) ? '' : v.toFixed(digits));

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '';
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function testCell(r: ExperimentReportRow): string {
  if (!r.test) return r.outcome.startsWith('diverged') ? 'none (no finite checkpoint)' : '';
  const acc = fixed(r.test.accuracy);
  return r.test.of === 'last-finite-checkpoint' ? `${acc} <small>(epoch ${r.test.checkpoint}, last finite)</small>` : acc;
}

const CSS = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2330;margin:2rem auto;max-width:1200px;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d8dde6;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;font-size:.85rem}th,td{border:1px solid #d8dde6;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f1f4f8}td.num{text-align:right;font-variant-numeric:tabular-nums}tr.diverged td{background:#fff4f2}
.meta{color:#586274}.chart{margin:1rem 0;overflow-x:auto}.chart svg{max-width:100%;height:auto}code{font-size:.85rem}
ul.notes li{margin:.3rem 0}small{color:#586274}
`;

export function reportHtml(report: ExperimentReport, charts: { name: string; title: string; svg: string | null }[]): string {
  const e = report.experiment;
  const original = report.rows.some((r) => r.original !== undefined);
  // Columns every variant shares are said once, above the table.
  const shared = (f: (r: ExperimentReportRow) => string) => new Set(report.rows.map(f)).size <= 1;
  const network = (r: ExperimentReportRow) => r.hidden.join('-');
  const sameNetwork = shared(network);
  const sameOptimizer = shared((r) => r.optimizer);
  const common = [
    ...(sameNetwork && report.rows[0] ? [`hidden layers ${network(report.rows[0])}`] : []),
    ...(sameOptimizer && report.rows[0] ? [`optimizer ${report.rows[0].optimizer}`] : []),
  ];
  const head = ['Variant', 'BN', ...(sameNetwork ? [] : ['Network']), ...(sameOptimizer ? [] : ['Optimizer']), 'lr', 'Batch', 'Weights', 'Dataset', 'Outcome', 'Epochs', 'Final loss', 'Final val. accuracy', 'Test accuracy', ...(original ? ['Original'] : []), 'Test loss', 'Time'];
  const rows = report.rows.map((r) => {
    const cells = [
      escapeHtml(r.name),
      r.batchNorm ? 'yes' : 'no',
      ...(sameNetwork ? [] : [escapeHtml(network(r))]),
      ...(sameOptimizer ? [] : [escapeHtml(r.optimizer)]),
      `<td class="num">${r.learningRate}</td>`,
      `<td class="num">${r.batchSize}</td>`,
      escapeHtml(r.weightInit),
      `<code>${escapeHtml(r.datasetId)}</code>`,
      escapeHtml(r.outcome),
      `<td class="num">${r.epochsTrained}</td>`,
      `<td class="num">${fixed(r.final?.loss)}</td>`,
      `<td class="num">${fixed(r.final?.valAccuracy)}</td>`,
      `<td class="num">${testCell(r)}</td>`,
      ...(original ? [`<td class="num">${fixed(r.original)}</td>`] : []),
      `<td class="num">${fixed(r.test?.loss)}</td>`,
      `<td class="num">${formatDuration(r.durationMs)}</td>`,
    ].map((c) => (c.startsWith('<td') ? c : `<td>${c}</td>`));
    const comparison = r.comparison === undefined ? '' : ` data-comparison="${escapeHtml(r.comparison)}"`;
    return `<tr class="variant${r.outcome.startsWith('diverged') ? ' diverged' : ''}" data-variant="${escapeHtml(r.name)}"${comparison}>${cells.join('')}</tr>`;
  });
  const chartBlocks = charts.map((c) =>
    c.svg
      ? `<figure class="chart" id="chart-${escapeHtml(c.name)}">${c.svg}<figcaption>${escapeHtml(c.title)}</figcaption></figure>`
      : `<p class="chart missing" id="chart-${escapeHtml(c.name)}">${escapeHtml(c.title)}: no data recorded for it.</p>`,
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(e.name)}: experiment report</title><style>${CSS}</style></head>
<body>
<h1>${escapeHtml(e.name)}</h1>
<p class="meta">Experiment <code>${escapeHtml(e.experimentId)}</code>${e.template ? `, template <code>${escapeHtml(e.template)}</code>` : ''}, dataset <code>${escapeHtml(e.datasetId)}</code>, seed ${e.seed}, status <strong>${escapeHtml(e.status)}</strong>; created ${escapeHtml(e.createdAt)}, report of ${escapeHtml(report.generatedAt)}.</p>
<h2>Results</h2>
${common.length > 0 ? `<p>Every variant: ${escapeHtml(common.join(', '))}.</p>` : ''}
<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
<ul class="notes">${report.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>
<h2>Charts</h2>
${chartBlocks.join('\n')}
<h2>Settings</h2>
<p>Each variant's settings as requested (the base with the variant's fields merged in); every other option takes its default.</p>
<table><thead><tr><th>Variant</th><th>model</th><th>training</th></tr></thead><tbody>
${e.variants.map((v) => `<tr><td>${escapeHtml(v.name)}</td><td><code>${escapeHtml(JSON.stringify(v.model))}</code></td><td><code>${escapeHtml(JSON.stringify(v.training))}</code></td></tr>`).join('\n')}
</tbody></table>
</body></html>
`;
}
