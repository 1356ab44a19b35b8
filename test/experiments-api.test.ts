// Experiments through the real app, a real Redis and a real worker: validation naming the field,
// creation, the status from the queue, the event stream, the report (HTML loaded in Chromium with every
// network request recorded; its charts parsed as SVG documents), pagination, cancellation by DELETE and
// the bn-comparisons template on MNIST.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readSse, startEnv, waitFor, type TestEnv } from './api-helpers.js';
import { launchBrowser, type TestBrowser } from './helpers/browser.js';
import { builtinData } from '../src/datasets/builtin.js';
import { storeDataset } from '../src/datasets/dataset-service.js';

let env: TestEnv;
let baseUrl: string;
let browser: TestBrowser | undefined;

before(async () => {
  env = await startEnv({ worker: true });
  baseUrl = await env.app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await browser?.close();
  await env?.close();
});

async function call(method: string, url: string, payload?: unknown) {
  const res = await env.app.inject({ method: method as 'GET', url, ...(payload !== undefined && { payload: payload as object }) });
  return { status: res.statusCode, body: res.headers['content-type']?.toString().startsWith('application/json') ? res.json() : res.body, headers: res.headers };
}

const FINAL = new Set(['completed', 'failed', 'cancelled']);
const twoVariants = (epochs: number, extra: object = {}) => ({
  name: 'bn on blobs',
  datasetId: 'builtin:blobs',
  base: { model: { hidden: [8], task: 'binary' }, training: { epochs, batchSize: 32, ...extra } },
  variants: [{ name: 'no BN', model: { batchNorm: { enabled: false } } }, { name: 'BN', model: { batchNorm: { momentum: 0.9 } } }],
});

async function finished(experimentId: string, timeoutMs = 60_000) {
  return waitFor(async () => {
    const res = await call('GET', `/v1/experiments/${experimentId}`);
    return FINAL.has(res.body.status) && res.body;
  }, timeoutMs, `experiment ${experimentId} to end`);
}

test('validation names the field: a schema error inside a variant, duplicate names, a semantic error of a merged variant; nothing is queued', async () => {
  const bad = await call('POST', '/v1/experiments', { ...twoVariants(2), variants: [{ name: 'a' }, { name: 'b', training: { learningRate: 500 } }] });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.field, 'variants[1].training.learningRate');

  const dup = await call('POST', '/v1/experiments', { ...twoVariants(2), variants: [{ name: 'a' }, { name: 'a' }] });
  assert.equal(dup.status, 400);
  assert.equal(dup.body.field, 'variants[1].name');
  assert.match(dup.body.message, /variant names must differ/);

  // Valid alone, invalid once merged: min >= max of the base's uniform initialisation.
  const merged = await call('POST', '/v1/experiments', {
    ...twoVariants(2),
    base: { model: { hidden: [8], task: 'binary', weightInit: { method: 'uniform', min: -1, max: 1 } } },
    variants: [{ name: 'ok' }, { name: 'inverted', model: { weightInit: { min: 2 } } }],
  });
  assert.equal(merged.status, 400);
  assert.equal(merged.body.field, 'variants[1].model.weightInit.min');
  assert.match(merged.body.message, /^variants\[1\] \(inverted\): /);

  const scale = await call('POST', '/v1/experiments', { ...twoVariants(2), variants: [{ name: 'raw', dataset: { scale: 'raw' } }] });
  assert.equal(scale.status, 400);
  assert.equal(scale.body.field, 'variants[0].dataset.scale');

  assert.equal((await call('GET', '/v1/experiments')).body.experiments.length, 0);
  assert.equal((await env.store.listModels()).length, 0, 'no variant of a rejected experiment was submitted');
});

test('an experiment of two variants: status from the queue, one seed, the event stream, the report and its charts', { timeout: 90_000 }, async (t) => {
  const created = await call('POST', '/v1/experiments', twoVariants(3));
  assert.equal(created.status, 202, JSON.stringify(created.body));
  const { experimentId, variants } = created.body;
  assert.equal(created.headers.location, `/v1/experiments/${experimentId}`);
  assert.deepEqual(variants.map((v: { name: string }) => v.name), ['no BN', 'BN']);

  const sse = await readSse(baseUrl, `/v1/experiments/${experimentId}/events`, {}, 60_000);
  assert.equal(sse.status, 200);
  const names = sse.events.map((e) => e.event);
  assert.equal(names[0], 'status');
  assert.equal(names.at(-1), 'completed', `events: ${names.join(', ')}`);
  assert.equal(names.filter((n) => FINAL.has(n)).length, 1, 'exactly one final event, the last');
  // Every epoch of every variant exactly once: in the first event's histories, or as an epoch event.
  const first = sse.events[0].data as { variants: { name: string; history: { epoch: number }[] }[] };
  for (const name of ['no BN', 'BN']) {
    const seen = [
      ...(first.variants.find((v) => v.name === name)?.history ?? []).map((h) => h.epoch),
      ...sse.events.filter((e) => e.event === 'epoch' && (e.data as { variant: string }).variant === name).map((e) => (e.data as { metrics: { epoch: number } }).metrics.epoch),
    ];
    assert.deepEqual(seen, [1, 2, 3], `epochs of ${name}`);
  }
  t.diagnostic(`events: ${names.join(' ')}`);

  const status = (await call('GET', `/v1/experiments/${experimentId}`)).body;
  assert.equal(status.status, 'completed');
  assert.equal(status.name, 'bn on blobs');
  for (const v of status.variants) {
    const job = (await call('GET', `/v1/training-jobs/${v.jobId}`)).body;
    assert.equal(v.status, job.status, 'the status is the queue\'s');
    assert.equal(v.status, 'completed');
    assert.deepEqual(v.history.map((h: { epoch: number }) => h.epoch), [1, 2, 3]);
    assert.ok(v.durationMs > 0);
    assert.equal(v.training.seed, status.seed, 'every variant trains with the experiment\'s seed');
    assert.equal((await env.store.getModel(v.modelId))?.training.seed, status.seed);
  }
  const specs = await Promise.all(status.variants.map((v: { modelId: string }) => env.store.getModel(v.modelId)));
  assert.deepEqual(specs.map((m) => m?.spec.batchNorm.enabled), [false, true]);
  assert.equal(specs[1]?.spec.batchNorm.momentum, 0.9, 'batchNorm merged field by field');

  const json = (await call('GET', `/v1/experiments/${experimentId}/report?format=json`)).body;
  assert.deepEqual(json.rows.map((r: { name: string; outcome: string; epochsTrained: number }) => [r.name, r.outcome, r.epochsTrained]), [['no BN', 'completed', 3], ['BN', 'completed', 3]]);
  assert.ok(json.notes.some((n: string) => /diverged in epoch N/.test(n)), 'the report states its divergence rule');
  assert.deepEqual(json.charts.filter((c: { available: boolean }) => c.available).map((c: { name: string }) => c.name), ['loss', 'val-accuracy', 'drift', 'bn-gamma', 'bn-moving-variance']);
  assert.deepEqual(Object.keys(json.bnStats), ['no BN', 'BN']);
  assert.deepEqual(json.bnStats.BN.map((e: { epoch: number }) => e.epoch), [0, 1, 2, 3], 'the BN statistics of every epoch, from the initialised network on');

  // The page in a real browser: self-contained (the only request is the page itself), no CSP violation.
  browser = await launchBrowser();
  const requests: string[] = [];
  browser.page.on('request', (r) => requests.push(r.url()));
  const reportUrl = `${baseUrl}/v1/experiments/${experimentId}/report`;
  const res = await browser.page.goto(reportUrl);
  assert.equal(res?.status(), 200);
  assert.match(res?.headers()['content-type'] ?? '', /^text\/html/);
  browser.assertNoProblems();
  assert.deepEqual(requests, [reportUrl], 'the report loads nothing else');
  const page = await browser.page.evaluate(() => ({
    rows: [...document.querySelectorAll('tr.variant')].map((tr) => tr.getAttribute('data-variant')),
    svgs: document.querySelectorAll('svg').length,
    scripts: document.querySelectorAll('script').length,
    external: [...document.querySelectorAll('[src], [href], [*|href]')].map((el) => el.getAttribute('src') ?? el.getAttribute('href') ?? el.getAttribute('xlink:href')),
  }));
  assert.deepEqual(page.rows, ['no BN', 'BN']);
  assert.equal(page.svgs, 5, 'every chart inline');
  assert.equal(page.scripts, 0);
  assert.deepEqual(page.external.filter((u) => /^https?:/i.test(u ?? '')), []);
  const html = await (await fetch(reportUrl)).text();
  assert.doesNotMatch(html, /(src|href)\s*=\s*["']?https?:\/\//i);

  // Each chart: an SVG document that parses, with the variants in its legend.
  // Drift compares both; gamma and the moving variance exist where there is a BN layer only.
  const legends: Record<string, string[]> = { loss: ['no BN', 'BN'], 'val-accuracy': ['no BN', 'BN'], drift: ['no BN', 'BN'], 'bn-gamma': ['BN'], 'bn-moving-variance': ['BN'] };
  for (const [chart, expected] of Object.entries(legends)) {
    const res = await fetch(`${baseUrl}/v1/experiments/${experimentId}/charts/${chart}.svg`);
    assert.equal(res.status, 200, chart);
    assert.match(res.headers.get('content-type') ?? '', /^image\/svg\+xml/);
    const text = await res.text();
    const parsed: { root: string; error: string | null; legend: (string | null)[] } = await browser.page.evaluate((svg) => {
      const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
      return { root: doc.documentElement.nodeName, error: doc.querySelector('parsererror')?.textContent ?? null, legend: [...doc.querySelectorAll('.role-legend-label text')].map((n) => n.textContent) };
    }, text);
    assert.equal(parsed.error, null, `${chart}.svg parses as XML`);
    assert.equal(parsed.root, 'svg');
    assert.deepEqual(parsed.legend.filter((l) => l === 'no BN' || l === 'BN').sort(), [...expected].sort(), `${chart}: legend ${JSON.stringify(parsed.legend)}`);
  }
  assert.equal((await call('GET', `/v1/experiments/${experimentId}/charts/nope.svg`)).status, 400);
});

test('the list is paginated newest first; DELETE cancels the variants still running and removes the record, the models stay', { timeout: 60_000 }, async () => {
  const long = await call('POST', '/v1/experiments', twoVariants(400, { batchSize: 8 }));
  assert.equal(long.status, 202);
  const { experimentId, variants } = long.body;
  const page1 = (await call('GET', '/v1/experiments?limit=1')).body;
  assert.deepEqual(page1.experiments.map((e: { experimentId: string }) => e.experimentId), [experimentId]);
  assert.equal(page1.experiments[0].variants[0].history, undefined, 'lists carry no histories');
  const page2 = (await call('GET', `/v1/experiments?limit=1&cursor=${page1.nextCursor}`)).body;
  assert.equal(page2.experiments.length, 1);
  assert.notEqual(page2.experiments[0].experimentId, experimentId);

  await waitFor(async () => (await call('GET', `/v1/experiments/${experimentId}`)).body.variants.some((v: { progress: { epoch: number } }) => v.progress.epoch >= 1), 30_000, 'a variant to train');
  const deleted = await call('DELETE', `/v1/experiments/${experimentId}`);
  assert.equal(deleted.status, 200);
  assert.equal((await call('GET', `/v1/experiments/${experimentId}`)).status, 404);
  for (const v of variants) {
    const end = await waitFor(async () => {
      const job = (await call('GET', `/v1/training-jobs/${v.jobId}`)).body;
      return FINAL.has(job.status) && job;
    }, 30_000, `variant ${v.name} to stop`);
    assert.equal(end.status, 'cancelled', `${v.name}: ${end.status}`);
    assert.ok(end.progress.epoch < 400);
    assert.ok(await env.store.getModel(v.modelId), 'its model stays');
  }
  assert.equal((await call('DELETE', `/v1/experiments/${experimentId}`)).status, 404);
});

test('a variant that diverges is a result: "diverged in epoch N", test metrics of its last finite checkpoint, the experiment completed', { timeout: 60_000 }, async () => {
  // builtin:blobs's rows with a test part (its first 200 rows): the settings of test/faults-diverge.test.ts
  // (regression, no BN, plain SGD at lr 1.5, seed 1) leave finite epochs, then overflow.
  const blobs = await builtinData('builtin:blobs');
  assert.ok(blobs);
  const test = { ...blobs.train, rows: 200, x: blobs.train.x.slice(0, 400), y: blobs.train.y.slice(0, 200) };
  const info = await storeDataset(env.store, { train: blobs.train, test }, { name: 'blobs with a test part' });
  const created = await call('POST', '/v1/experiments', {
    datasetId: info.id,
    base: { model: { hidden: [32], task: 'regression', batchNorm: { enabled: false } }, training: { epochs: 10, batchSize: 32, optimizer: 'sgd', learningRate: 1.5, seed: 1 } },
    variants: [{ name: 'no BN' }, { name: 'no BN (lr 0.01)', training: { learningRate: 0.01 } }],
  });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  const end = await finished(created.body.experimentId);
  assert.equal(end.status, 'completed', 'a divergence is a result, not a failure of the experiment');
  const [diverged, fine] = end.variants;
  assert.equal(diverged.status, 'failed');
  assert.match(diverged.error, /diverged/);
  const k = diverged.diverged.lastFiniteEpoch;
  assert.ok(k >= 1, `finite epochs before the divergence: ${k}`);
  assert.equal(diverged.diverged.epoch, k + 1);
  assert.equal(diverged.history.length, k);
  assert.equal(diverged.testMetricsOf, 'last-finite-checkpoint');
  assert.equal(diverged.testMetrics.checkpoint, k);
  // The same figure as evaluating that checkpoint through the evaluation route.
  const evaluated = await call('POST', `/v1/models/${diverged.modelId}/evaluate`, { datasetId: info.id, checkpoint: k });
  assert.equal(evaluated.status, 200, JSON.stringify(evaluated.body));
  assert.equal(diverged.testMetrics.loss, evaluated.body.loss);
  assert.equal(diverged.testMetrics.rows, 200);
  assert.equal(fine.status, 'completed');
  assert.equal(fine.testMetricsOf, 'final');
  assert.equal(fine.testMetrics.checkpoint, 10);

  const report = (await call('GET', `/v1/experiments/${end.experimentId}/report?format=json`)).body;
  assert.equal(report.rows[0].outcome, `diverged in epoch ${k + 1}`);
  assert.deepEqual(report.rows[0].test, { loss: evaluated.body.loss, checkpoint: k, of: 'last-finite-checkpoint' });
  const html = (await call('GET', `/v1/experiments/${end.experimentId}/report`)).body as string;
  assert.match(html, new RegExp(`diverged in epoch ${k + 1}`));
  assert.match(html, new RegExp(`epoch ${k}, last finite`));
});
