// The BN panel and the experiments pages in a real browser (Debian's headless Chromium through
// playwright-core) against the real service (`node dist/src/main.js`, no API_KEYS), a real Redis and real
// training workers. The models and experiments are submitted through the API at the start and train while
// the browser checks what is ready; every step fails on a console error or a CSP violation.
// UI_SCREENSHOTS=1 also writes docs/screenshots/bn-panel.png and docs/screenshots/experiment.png.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { faultFixture, isFinished, startReady, submitJob, waitForJob, withServiceOutput, type ServiceProcess } from './helpers/service-process.js';
import { assertFitsWidth, assertLabelled, launchBrowser, screenshot, type TestBrowser } from './helpers/browser.js';

/** Epochs of the BN model the panel follows live: enough that the page opens while it trains. */
const LIVE_EPOCHS = 10;
const HIDDEN = [8, 6];

async function api(svc: ServiceProcess, method: string, url: string, body?: unknown) {
  const res = await fetch(`${svc.baseUrl}${url}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** Two noisy clouds as CSV: `rows` rows, label last; `shift` makes the test part differ from training. */
function cloudsCsv(rows: number, shift: number): string {
  const lines = ['a,b,label'];
  for (let i = 0; i < rows; i++) {
    const label = i % 2;
    lines.push(`${(label * 1.5 + Math.sin(i * 1.3 + shift)).toFixed(4)},${(label + Math.cos(i * 2.1 + shift)).toFixed(4)},${label}`);
  }
  return lines.join('\n');
}

/** A dataset with a test part (multipart, label column), so that jobs end with test metrics. */
async function uploadClouds(svc: ServiceProcess): Promise<string> {
  const form = new FormData();
  form.append('name', 'clouds with a test part');
  form.append('label', 'label');
  form.append('features', new Blob([cloudsCsv(400, 0)], { type: 'text/csv' }), 'train.csv');
  form.append('testFeatures', new Blob([cloudsCsv(100, 0.5)], { type: 'text/csv' }), 'test.csv');
  const res = await fetch(`${svc.baseUrl}/v1/datasets`, { method: 'POST', body: form });
  const body = (await res.json()) as any;
  assert.equal(res.status, 201, JSON.stringify(body));
  return body.id;
}




/** The number of rows a chart draws, once it has drawn `expected` of them. */
async function waitForPoints(page: Page, chart: string, expected: number): Promise<void> {
  await page.locator(`figure[data-chart="${chart}"][data-points="${expected}"]`).waitFor();
}

describe('BN panel and experiments in Chromium against the real service', { concurrency: false }, () => {
  const fixture = faultFixture();
  let svc: ServiceProcess;
  let browser: TestBrowser;
  let page: Page;
  let datasetId: string;
  let bnModel: { jobId: string; modelId: string };
  let plainModel: { jobId: string; modelId: string };
  let collapsing: { jobId: string; modelId: string };
  let experiment: { experimentId: string; variants: { name: string; jobId: string; modelId: string }[] };

  before(async () => {
    const { redis, dataDir } = await fixture.start();
    [svc, browser] = await Promise.all([
      startReady({ role: 'all', redisUrl: redis.url, dataDir, logLevel: 'warn', env: { WORKER_CONCURRENCY: '2', JOB_ATTEMPTS: '1' } }),
      launchBrowser(),
    ]);
    page = browser.page;
    page.setDefaultTimeout(30_000);
    datasetId = await uploadClouds(svc);
    // The BN model first: the panel follows it while it trains.
    bnModel = await submitJob(svc, {
      datasetId,
      model: { hidden: HIDDEN, task: 'binary' },
      training: { epochs: LIVE_EPOCHS, batchSize: 2, seed: 5 },
    });
  });
  after(async () => {
    await browser?.close();
  });

  test('the BN panel of a BN model: bands of γ, β and the moving statistics per layer and epoch, drift, flags; live while it trains', withServiceOutput(async () => {
    await page.goto(`${svc.baseUrl}/ui/models/${bnModel.modelId}`);
    await page.getByRole('heading', { name: `Model ${bnModel.modelId}` }).waitFor();
    await page.getByRole('link', { name: 'per layer and epoch' }).click();
    await page.getByRole('heading', { name: `BN statistics of ${bnModel.modelId}`, level: 1 }).waitFor();
    // Every number of epochs the first γ chart draws, as it draws them.
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { seenPoints: number[] }).seenPoints = seen;
      const record = () => {
        const n = Number(document.querySelector('figure[data-chart="band-0-gamma"]')?.getAttribute('data-points'));
        if (Number.isInteger(n) && seen[seen.length - 1] !== n) seen.push(n);
      };
      record();
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-points'] });
    });
    const done = await waitForJob(svc, bnModel.jobId, isFinished, 120_000);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    // The page reads the model again once the job's stream has ended.
    await page.locator('.page-head .status', { hasText: 'completed' }).waitFor();
    // Epochs 0 (as initialised) to LIVE_EPOCHS: one row each in every band; drift from epoch 1, mean and std.
    for (let layer = 0; layer < HIDDEN.length; layer++) {
      const section = page.locator(`section.bn-layer[data-layer="${layer}"]`);
      assert.equal(await section.getAttribute('data-batch-norm'), 'true');
      await section.getByRole('heading', { name: `Layer ${layer} (${HIDDEN[layer]} units, BN)` }).waitFor();
      for (const q of ['gamma', 'beta', 'movingMean', 'movingVariance']) await waitForPoints(page, `band-${layer}-${q}`, LIVE_EPOCHS + 1);
      await waitForPoints(page, `drift-mean-${layer}`, LIVE_EPOCHS);
      await waitForPoints(page, `drift-std-${layer}`, LIVE_EPOCHS);
      assert.equal(await section.locator('figure[data-chart="band-0-mean"]').count(), 0, 'a BN layer shows its BN parameters');
    }
    // The chart drew a median point per epoch.
    assert.ok((await page.locator('figure[data-chart="band-0-gamma"] .mark-symbol path').count()) >= LIVE_EPOCHS + 1);
    const seen = await page.evaluate(() => (window as unknown as { seenPoints: number[] }).seenPoints);
    // Opened while the job trained (some epochs drawn, not all), then completed without a reload.
    assert.ok(seen.some((n) => n > 0 && n < LIVE_EPOCHS + 1), `the bands were drawn at ${JSON.stringify(seen)} epochs: the page should have opened mid-run`);
    assert.equal(seen.at(-1), LIVE_EPOCHS + 1);
    assert.deepEqual([...seen].sort((a, b) => a - b), seen, `epochs never go back: ${JSON.stringify(seen)}`);

    // The flags say what the API's latest epoch says.
    const stats = await api(svc, 'GET', `/v1/models/${bnModel.modelId}/bn-stats`);
    assert.equal(stats.status, 200);
    assert.deepEqual(stats.body.epochs.map((e: any) => e.epoch), Array.from({ length: LIVE_EPOCHS + 1 }, (_, i) => i));
    const latest = stats.body.epochs[LIVE_EPOCHS];
    const flagged = latest.layers.some((l: any) => l.collapsed.movingVariance.length + l.collapsed.gamma.length > 0);
    const flags = page.getByTestId('collapse-flags');
    assert.equal(flagged, false, `a normal model has no collapsed unit: ${JSON.stringify(latest.layers.map((l: any) => l.collapsed))}`);
    assert.match(String(await flags.textContent()), new RegExp(`Epoch ${LIVE_EPOCHS}: no collapsed units`));
    await page.getByText('Drift is how far each unit').waitFor();
    await assertLabelled(page);
    await screenshot(page, 'bn-panel');
    browser.assertNoProblems();
  }));

  test('a model without BN: the pre-activation bands and the drift only; a collapsed BN layer is flagged by layer and unit', withServiceOutput(async () => {
    // Without BN, and a BN model fed constant rows: every pre-activation is constant over the batch, so
    // with momentum 0 each moving variance is that batch's variance, 0, and every unit collapses.
    const constant = await api(svc, 'POST', '/v1/datasets', {
      name: 'constant rows',
      features: Array.from({ length: 64 }, () => [1, -2, 0.5]),
      labels: Array.from({ length: 64 }, (_, i) => i % 2),
    });
    assert.equal(constant.status, 201, JSON.stringify(constant.body));
    [plainModel, collapsing] = await Promise.all([
      submitJob(svc, { datasetId, model: { hidden: HIDDEN, task: 'binary', batchNorm: { enabled: false } }, training: { epochs: 2, batchSize: 32, seed: 5 } }),
      submitJob(svc, { datasetId: constant.body.id, model: { hidden: [4], task: 'binary', batchNorm: { momentum: 0 } }, training: { epochs: 1, batchSize: 16, seed: 5 } }),
    ]);
    for (const m of [plainModel, collapsing]) {
      const s = await waitForJob(svc, m.jobId, isFinished, 60_000);
      assert.equal(s.status, 'completed', JSON.stringify(s));
    }

    await page.goto(`${svc.baseUrl}/ui/models/${plainModel.modelId}/bn`);
    await page.getByRole('heading', { name: `BN statistics of ${plainModel.modelId}`, level: 1 }).waitFor();
    for (let layer = 0; layer < HIDDEN.length; layer++) {
      const section = page.locator(`section.bn-layer[data-layer="${layer}"]`);
      await section.getByRole('heading', { name: `Layer ${layer} (${HIDDEN[layer]} units, no BN)` }).waitFor();
      await waitForPoints(page, `band-${layer}-mean`, 3);
      await waitForPoints(page, `band-${layer}-std`, 3);
      await waitForPoints(page, `drift-mean-${layer}`, 2);
      await waitForPoints(page, `drift-std-${layer}`, 2);
      assert.equal(await section.locator('figure').count(), 4, 'mean and std bands and the two drifts, nothing of BN');
    }
    await page.getByText('No BN layer: there are no γ or moving variances that could collapse.').waitFor();
    browser.assertNoProblems();

    await page.goto(`${svc.baseUrl}/ui/models/${collapsing.modelId}/bn`);
    const warning = page.getByRole('alert').filter({ hasText: 'collapsed units' });
    await warning.waitFor();
    const stats = await api(svc, 'GET', `/v1/models/${collapsing.modelId}/bn-stats`);
    const collapsed = stats.body.epochs.at(-1).layers[0].collapsed;
    assert.deepEqual(collapsed.movingVariance, [0, 1, 2, 3], JSON.stringify(stats.body.epochs.at(-1)));
    assert.match(String(await warning.textContent()), /Epoch 1: collapsed units/);
    assert.match(String(await warning.locator('li[data-kind="movingVariance"]').textContent()), /Layer 0: moving variance below 0\.0001 in units 0, 1, 2, 3 of 4\./);
    browser.assertNoProblems();
  }));

  test('an experiment of two variants: side by side, curves overlaid, drift per variant, the report opens with its table', withServiceOutput(async () => {
    const created = await api(svc, 'POST', '/v1/experiments', {
      name: 'bn or not',
      datasetId,
      base: { model: { hidden: HIDDEN, task: 'binary' }, training: { epochs: 2, batchSize: 16, seed: 3 } },
      variants: [{ name: 'without BN', model: { batchNorm: { enabled: false } } }, { name: 'with BN' }],
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    experiment = created.body;

    await page.goto(`${svc.baseUrl}/ui/models`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Experiments' }).click();
    await page.getByRole('heading', { name: 'Experiments', level: 1 }).waitFor();
    const row = page.getByTestId('experiments').getByRole('row').filter({ hasText: 'bn or not' });
    await row.waitFor();
    assert.match(String(await row.textContent()), /without BN, with BN/);
    await row.getByRole('link', { name: 'bn or not' }).click();
    await page.getByRole('heading', { name: 'Experiment bn or not', level: 1 }).waitFor();
    await page.locator('.page-head .status', { hasText: 'completed' }).waitFor({ timeout: 120_000 });

    const variants = page.getByTestId('variants');
    for (const v of experiment.variants) {
      const tr = variants.locator(`tr[data-variant="${v.name}"]`);
      await tr.locator('.status', { hasText: 'completed' }).waitFor();
      assert.equal(await tr.getByRole('link', { name: `job of ${v.name}` }).getAttribute('href'), `/ui/jobs/${v.jobId}`);
      assert.equal(await tr.getByRole('link', { name: `model of ${v.name}` }).getAttribute('href'), `/ui/models/${v.modelId}`);
      // The test accuracy shown is the one the job recorded (4 significant digits).
      const job = await api(svc, 'GET', `/v1/training-jobs/${v.jobId}`);
      assert.equal(typeof job.body.testMetrics?.accuracy, 'number', JSON.stringify(job.body));
      assert.equal(Number(await tr.getByTestId('test-accuracy').textContent()), Number(job.body.testMetrics.accuracy.toPrecision(4)));
    }
    // Two variants x (training, validation) x 2 epochs of loss; validation accuracy alone: 2 x 2.
    await waitForPoints(page, 'loss', 8);
    await waitForPoints(page, 'val-accuracy', 4);
    const legend = (await page.locator('figure[data-chart="loss"] .role-legend').allTextContents()).join(' ');
    assert.match(legend, /without BN/);
    assert.match(legend, /with BN/);
    await page.getByTestId('test-metrics').waitFor();
    // Drift per layer, one line per variant: epochs 1 and 2 of each.
    for (let layer = 0; layer < HIDDEN.length; layer++) await waitForPoints(page, `drift-overlay-${layer}`, 4);
    await assertLabelled(page);
    await screenshot(page, 'experiment');
    browser.assertNoProblems();

    // The report: the service's own page, opened in a new tab, with a row per variant.
    const [report] = await Promise.all([page.context().waitForEvent('page'), page.getByRole('link', { name: 'Open the report' }).click()]);
    await report.waitForLoadState();
    assert.equal(new URL(report.url()).pathname, `/v1/experiments/${experiment.experimentId}/report`);
    for (const v of experiment.variants) await report.getByRole('cell', { name: v.name, exact: true }).first().waitFor();
    await report.close();
  }));

  test('cancels a running experiment from its page; the form names a rejected field, then starts the comparisons; pages fit a 390 px screen', withServiceOutput(async () => {
    const created = await api(svc, 'POST', '/v1/experiments', {
      name: 'long one',
      datasetId,
      base: { model: { hidden: [16], task: 'binary' }, training: { epochs: 1000, batchSize: 4, seed: 3 } },
      variants: [{ name: 'a' }, { name: 'b', model: { batchNorm: { enabled: false } } }],
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    await page.goto(`${svc.baseUrl}/ui/experiments/${created.body.experimentId}`);
    await page.locator('.page-head .status', { hasText: 'running' }).waitFor({ timeout: 60_000 });
    // Live: the epochs the stream reports move the progress and the curves on, without a reload.
    const progress = 'tr[data-variant="a"] .progress-cell span';
    const epochNow = async () => Number(String(await page.locator(progress).textContent()).split('/')[0]);
    const from = await epochNow();
    await page.waitForFunction(([sel, n]) => Number(document.querySelector(sel)?.textContent?.split('/')[0]) >= n + 2, [progress, from] as const);
    await page.waitForFunction((n) => Number(document.querySelector('figure[data-chart="loss"]')?.getAttribute('data-points')) >= n, 2 * (from + 2));
    await page.getByRole('button', { name: 'Cancel the experiment' }).click();
    await page.getByRole('button', { name: 'Yes, cancel the experiment' }).click();
    await page.getByTestId('experiment-deleted').waitFor();
    for (const v of created.body.variants as { jobId: string }[]) {
      const s = await waitForJob(svc, v.jobId, isFinished, 30_000);
      assert.equal(s.status, 'cancelled');
    }
    assert.equal((await api(svc, 'GET', `/v1/experiments/${created.body.experimentId}`)).status, 404);
    browser.assertNoProblems([404]);

    // The template form: the API's 400 is shown with its message and the field it names.
    await page.goto(`${svc.baseUrl}/ui/experiments`);
    const experimentsBefore = (await api(svc, 'GET', '/v1/experiments')).body.experiments.length;
    await page.getByLabel('Epochs per variant').fill('1');
    await page.getByLabel('Name (optional)').fill('no / slashes');
    await page.getByRole('button', { name: 'Start the comparisons' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'The experiment was not started' });
    await alert.waitFor();
    assert.match(String(await alert.textContent()), /field name/);
    assert.equal(await page.getByLabel('Name (optional)').getAttribute('aria-invalid'), 'true');
    assert.equal((await api(svc, 'GET', '/v1/experiments')).body.experiments.length, experimentsBefore, 'nothing started');
    await assertLabelled(page);
    browser.assertNoProblems([400, 404]);

    // Corrected, it starts the eight variants and opens their page; stopped at once from there.
    await page.getByLabel('Name (optional)').fill('from the form');
    await page.getByRole('button', { name: 'Start the comparisons' }).click();
    await page.getByRole('heading', { name: 'Experiment from the form', level: 1 }).waitFor();
    const started = decodeURIComponent(page.url().split('/').pop() as string);
    const status = await api(svc, 'GET', `/v1/experiments/${started}`);
    assert.equal(status.body.template, 'bn-comparisons');
    assert.equal(status.body.datasetId, 'builtin:mnist');
    assert.deepEqual(status.body.variants.map((v: any) => v.training.epochs), Array(8).fill(1));
    assert.equal(await page.getByTestId('variants').locator('tbody tr').count(), 8);
    await page.getByRole('button', { name: 'Cancel the experiment' }).click();
    await page.getByRole('button', { name: 'Yes, cancel the experiment' }).click();
    await page.getByTestId('experiment-deleted').waitFor();
    browser.assertNoProblems([404]);

    await page.setViewportSize({ width: 390, height: 844 });
    const pages: [string, string][] = [
      [`/ui/models/${bnModel.modelId}/bn`, `BN statistics of ${bnModel.modelId}`],
      ['/ui/experiments', 'Experiments'],
      [`/ui/experiments/${experiment.experimentId}`, 'Experiment bn or not'],
    ];
    for (const [url, heading] of pages) {
      await page.goto(`${svc.baseUrl}${url}`);
      await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
      await page.waitForLoadState('networkidle');
      await assertFitsWidth(page);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    browser.assertNoProblems();
  }));
});
