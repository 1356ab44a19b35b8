// npm run experiments: runs the bn-comparisons template on builtin:mnist and, when Debian's
// dataset-fashion-mnist is installed, on builtin:fashion-mnist, one after the other, against the real
// service (started here as `npm start` runs it, with its embedded Redis and a temporary DATA_DIR, or
// the one at BN_SERVICE_URL), and writes docs/experiments/: per dataset the report (HTML and JSON) and
// its charts (SVG), and README.md with the test accuracies beside the original figures.
//   EXPERIMENT_DATASETS=mnist,fashion-mnist   which datasets (default: both, fashion-mnist when installed)
//   EXPERIMENT_BASE='{"training":{"epochs":3}}'  overrides merged into every variant (a shorter run)
//   EXPERIMENT_RENDER_ONLY=1                  trains nothing: renders every docs/experiments/*/report.json again
// A dataset not run this time keeps its earlier results (its report.json), and the README shows them too.
// The service started here trains one variant at a time (WORKER_CONCURRENCY=1 unless set).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/redis/embedded-redis.js';
import type { ExperimentReport, ExperimentReportRow } from '../src/schemas/experiment.js';
import { EXPERIMENT_CHARTS } from '../src/schemas/experiment.js';
import { BN_COMPARISONS, variantName } from '../src/experiments/template.js';
import { formatDuration, reportHtml } from '../src/experiments/report-html.js';
import { CHART_TITLES, experimentChartSpec } from '../src/experiments/report-charts.js';
import { renderSvg } from '../src/experiments/report-svg.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN_JS = path.join(ROOT, 'dist/src/main.js');
const OUT = path.join(ROOT, 'docs/experiments');
const POLL_MS = 2000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function api<T>(base: string, method: string, url: string, body?: unknown): Promise<{ status: number; body: T; text: string }> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // HTML or SVG
  }
  return { status: res.status, body: parsed as T, text };
}

/** The service as `npm start` runs it (ROLE=all, its own redis-server), on a free port and a temporary DATA_DIR. */
async function startService(): Promise<{ base: string; child: ChildProcess; dataDir: string }> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bn-experiments-'));
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN_JS], {
    // One variant at a time, so that each variant's time is its own.
    env: { ...process.env, WORKER_CONCURRENCY: process.env.WORKER_CONCURRENCY ?? '1', ROLE: 'all', PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the service exited with code ${child.exitCode} before it was ready`);
      const ready = await fetch(`${base}/readyz`).then((r) => r.status === 200, () => false);
      if (ready) return { base, child, dataDir };
      if (Date.now() > deadline) throw new Error('the service was not ready within 60 s');
      await sleep(250);
    }
  } catch (err) {
    await stopService({ child, dataDir }); // never leave a service and its redis-server behind
    throw err;
  }
}

async function stopService(service: { child: ChildProcess; dataDir: string }): Promise<void> {
  if (service.child.exitCode === null && service.child.signalCode === null) {
    const exited = new Promise((r) => service.child.once('exit', r));
    service.child.kill('SIGTERM');
    await exited;
  }
  await fs.rm(service.dataDir, { recursive: true, force: true });
}

interface Run {
  slug: string;
  datasetId: string;
  report: ExperimentReport;
  wallMs: number;
  overrides?: object;
}

/**
 * Writes a dataset's report.json, run.json, report.html and chart SVGs, rendered here from the report's
 * data with the functions the service's report routes use.
 */
async function writeRun(run: Run): Promise<void> {
  const dir = path.join(OUT, run.slug);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'report.json'), `${JSON.stringify(run.report, null, 2)}\n`);
  await fs.writeFile(path.join(dir, 'run.json'), `${JSON.stringify({ datasetId: run.datasetId, wallMs: run.wallMs, overrides: run.overrides }, null, 2)}\n`);
  const input = { experiment: run.report.experiment, bnStats: new Map(Object.entries(run.report.bnStats)) };
  const charts = [];
  for (const name of EXPERIMENT_CHARTS) {
    const spec = experimentChartSpec(name, input);
    const svg = spec && (await renderSvg(spec));
    if (svg) await fs.writeFile(path.join(dir, `${name}.svg`), svg);
    charts.push({ name, title: CHART_TITLES[name], svg });
  }
  await fs.writeFile(path.join(dir, 'report.html'), reportHtml(run.report, charts));
}

/** The runs already in docs/experiments (report.json and run.json per dataset). */
async function earlierRuns(): Promise<Run[]> {
  const slugs = await fs.readdir(OUT).catch(() => [] as string[]);
  const runs: Run[] = [];
  const rank = (slug: string) => (slug === 'mnist' ? 0 : slug === 'fashion-mnist' ? 1 : 2);
  for (const slug of slugs.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))) {
    const report = await fs.readFile(path.join(OUT, slug, 'report.json'), 'utf8').catch(() => null);
    const meta = await fs.readFile(path.join(OUT, slug, 'run.json'), 'utf8').catch(() => null);
    if (!report || !meta) continue;
    const { datasetId, wallMs, overrides } = JSON.parse(meta) as { datasetId: string; wallMs: number; overrides?: object };
    runs.push({ slug, datasetId, wallMs, overrides, report: JSON.parse(report) as ExperimentReport });
  }
  return runs;
}

async function runOne(base: string, slug: string, overrides: object | undefined): Promise<Run> {
  const datasetId = `builtin:${slug}`;
  const t0 = Date.now();
  const created = await api<{ experimentId: string }>(base, 'POST', '/v1/experiments', { template: 'bn-comparisons', datasetId, ...(overrides && { base: overrides }) });
  if (created.status !== 202) throw new Error(`POST /v1/experiments answered ${created.status}: ${created.text}`);
  const { experimentId } = created.body;
  console.log(`${datasetId}: experiment ${experimentId}`);
  let last = '';
  for (;;) {
    const s = await api<{ status: string; variants: { name: string; status: string; progress: { epoch: number; epochs: number } }[] }>(base, 'GET', `/v1/experiments/${experimentId}`);
    if (s.status === 503) {
      await sleep(POLL_MS); // shedding load while the variants train: ask again
      continue;
    }
    if (s.status !== 200) throw new Error(`GET /v1/experiments/${experimentId} answered ${s.status}: ${s.text.slice(0, 300)}`);
    const line = s.body.variants.map((v) => `${v.name}: ${v.status} ${v.progress.epoch}/${v.progress.epochs}`).join(' | ');
    if (line !== last) console.log(`  ${line}`);
    last = line;
    if (['completed', 'failed', 'cancelled'].includes(s.body.status)) break;
    await sleep(POLL_MS);
  }
  const wallMs = Date.now() - t0;
  const report = (await api<ExperimentReport>(base, 'GET', `/v1/experiments/${experimentId}/report?format=json`)).body;
  const run: Run = { slug, datasetId, report, wallMs, ...(overrides && { overrides }) };
  await writeRun(run);
  return run;
}

function cell(r: ExperimentReportRow | undefined): string {
  if (!r) return '';
  const acc = r.test?.accuracy?.toFixed(4);
  if (r.outcome.startsWith('diverged')) return acc ? `${r.outcome}; ${acc} (epoch ${r.test?.checkpoint})` : r.outcome;
  return acc ?? r.outcome;
}

function readme(runs: Run[]): string {
  const heads = ['Comparison', 'Original, no BN', 'Original, BN', ...runs.flatMap((r) => [`${r.slug}, no BN`, `${r.slug}, BN`])];
  const lines = BN_COMPARISONS.map((c) => {
    const ours = runs.flatMap((run) => [false, true].map((bn) => cell(run.report.rows.find((r) => r.name === variantName(c.name, bn)))));
    return `| ${c.name} (${c.description}) | ${c.original.withoutBn} | ${c.original.withBn} | ${ours.join(' | ')} |`;
  });
  const times = runs.map((run) => {
    const training = run.report.rows.reduce((s, r) => s + (r.durationMs ?? 0), 0);
    const rows = run.report.rows.map((r) => `${r.name} ${formatDuration(r.durationMs)}`).join(', ');
    return `- **${run.datasetId}** (seed ${run.report.experiment.seed}, ${run.report.generatedAt.slice(0, 10)}): ${formatDuration(run.wallMs)} from submission to the last variant's end (${formatDuration(training)} of training, one variant at a time); per variant: ${rows}.`;
  });
  const cores = os.cpus().length;
  return `# BN comparisons, as run by \`npm run experiments\`

The \`bn-comparisons\` template (see the main README, section Experiments): a 784-256-128-64-10 ReLU network
trained with plain SGD for 10 epochs on 80 % of the training images (20 % held out for validation),
without and with BN (Dense without bias -> BN -> ReLU), in four settings. Test accuracy on each
dataset's test part, with the frozen moving statistics. "Original" is the Keras original these
comparisons come from (MNIST, 48,000 training images).${runs
    .filter((r) => r.overrides)
    .map((r) => `\n\nThe ${r.datasetId} run merged \`${JSON.stringify(r.overrides)}\` into every variant.`)
    .join('')}

${heads.map((h) => `| ${h} `).join('')}|
${heads.map(() => '|---').join('')}|
${lines.join('\n')}

A variant that diverged (its loss became NaN or infinite) stopped in that epoch; the figure after it is
the test accuracy of its last finite checkpoint, and one that diverged in epoch 1 left none.
\`builtin:mnist\` has 10,000 digits (8,000 training: 6,400 train on after the split, 50 steps per epoch
at batch 128, against the original's 375), \`builtin:fashion-mnist\` 60,000 (48,000 after the split, as
the original had).

How long it took on this machine (${cores} cores, ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}; shared with other work while it ran):

${times.join('\n')}

Per dataset: \`report.html\` (self-contained: open it offline), \`report.json\` (its data), and the charts:
${runs.map((run) => `- ${run.datasetId}: ${run.report.charts.filter((c) => c.available).map((c) => `[${c.name}](${run.slug}/${c.name}.svg)`).join(', ')}, [report](${run.slug}/report.html)`).join('\n')}

![Validation accuracy per epoch, ${runs[0]?.datasetId}](${runs[0]?.slug}/val-accuracy.svg)
`;
}

async function main(): Promise<void> {
  if (process.env.EXPERIMENT_RENDER_ONLY) {
    const runs = await earlierRuns();
    if (runs.length === 0) throw new Error(`no report.json under ${OUT} to render`);
    for (const run of runs) await writeRun(run);
    await fs.writeFile(path.join(OUT, 'README.md'), readme(runs));
    console.log(`rendered ${runs.map((r) => r.slug).join(', ')} again`);
    return;
  }
  const overrides = process.env.EXPERIMENT_BASE ? (JSON.parse(process.env.EXPERIMENT_BASE) as object) : undefined;
  let service: Awaited<ReturnType<typeof startService>> | undefined;
  const base = process.env.BN_SERVICE_URL ?? (service = await startService()).base;
  try {
    const wanted = process.env.EXPERIMENT_DATASETS?.split(',').map((s) => s.trim()) ?? ['mnist', 'fashion-mnist'];
    const fresh: Run[] = [];
    for (const slug of wanted) {
      const info = await api(base, 'GET', `/v1/datasets/builtin:${slug}`);
      if (info.status !== 200) {
        console.log(`builtin:${slug} is not available here (${info.status}): skipped. ${info.text.slice(0, 300)}`);
        continue;
      }
      fresh.push(await runOne(base, slug, overrides));
    }
    if (fresh.length === 0) throw new Error('no dataset could be run');
    // The datasets not run this time keep their earlier results.
    const runs = (await earlierRuns()).map((r) => fresh.find((f) => f.slug === r.slug) ?? r);
    await fs.writeFile(path.join(OUT, 'README.md'), readme(runs));
    console.log(`wrote ${path.relative(ROOT, OUT)}/`);
  } finally {
    if (service) await stopService(service);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
