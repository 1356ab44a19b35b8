// The BN statistics charts of src/charts/bn-stats.ts compile with Vega-Lite and render to SVG with Vega
// on the server (and the same with the CSP-safe expression interpreter the dashboard runs): the band
// chart draws its p10-p90 band, median and min/max lines; the drift chart a line and a band per layer,
// per variant when several models are overlaid.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { expressionInterpreter } from 'vega-interpreter';
import { bandPoints, bandSpec, driftPoints, driftSpec } from '../src/charts/bn-stats.js';
import type { BnStatsEpoch } from '../src/schemas/bn-stats.js';

const q = (c: number) => [c - 2, c - 1, c, c + 1, c + 2];
function epochs(n: number, scale = 1): BnStatsEpoch[] {
  return Array.from({ length: n + 1 }, (_, e) => ({
    epoch: e,
    layers: [0, 1].map((layer) => ({
      layer,
      units: 4,
      batchNorm: layer === 0,
      mean: q(e + layer),
      std: q(3),
      ...(e > 0 && { meanDrift: q((scale * (layer + 1)) / e), stdDrift: q(0.5 / e) }),
      ...(layer === 0 && { gamma: q(1 + e), beta: q(0), movingMean: q(e), movingVariance: q(4), collapsed: { movingVariance: [], gamma: [] } }),
    })),
  }));
}

/** The SVG, and per mark type the drawn series (mark nodes) and their items. */
async function render(spec: TopLevelSpec, interpreter: boolean) {
  const runtime = parse(compile(spec).spec, undefined, interpreter ? { ast: true } : undefined);
  const view = new View(runtime, { renderer: 'none', ...(interpreter && { expr: expressionInterpreter }) });
  await view.runAsync();
  const svg = await view.toSVG();
  const marks: Record<string, { series: number; items: number }> = {};
  (function walk(node: any) {
    if (node.marktype && node.role === 'mark' && node.marktype !== 'group') {
      const m = (marks[node.marktype] ??= { series: 0, items: 0 });
      m.series++;
      m.items += node.items.length;
    }
    for (const item of node.items ?? []) for (const child of item.items ?? []) walk(child);
  })((view.scenegraph() as any).root);
  view.finalize();
  return { svg, marks };
}

test('bandPoints: one row per epoch with the quantiles, BN quantities only where the layer has BN', () => {
  const e = epochs(3);
  assert.deepEqual(bandPoints(e, 0, 'gamma')[1], { epoch: 1, min: 0, p10: 1, median: 2, p90: 3, max: 4 });
  assert.deepEqual(bandPoints(e, 1, 'mean', 'v').map((p) => [p.epoch, p.median, p.variant]), [[0, 1, 'v'], [1, 2, 'v'], [2, 3, 'v'], [3, 4, 'v']]);
  assert.deepEqual(bandPoints(e, 1, 'gamma'), [], 'layer 1 has no BN');
  const d = driftPoints(e);
  assert.deepEqual(d.map((p) => p.epoch), [1, 1, 2, 2, 3, 3], 'epoch 0 has no drift');
  assert.deepEqual(d[1], { epoch: 1, layer: 'layer 1', p10: 1, median: 2, p90: 3, series: 'layer 1' });
  assert.equal(driftPoints(e, 'stdDrift', 'with BN')[0].series, 'with BN, layer 0');
});

test('bandSpec draws the p10-p90 band, the median with a point per epoch and the min and max lines', async () => {
  const spec = bandSpec(bandPoints(epochs(4), 0, 'gamma'), 'gamma', { layer: 0, epochs: 10, width: 400 });
  const compiled = await render(spec, false);
  const interpreted = await render(spec, true);
  assert.equal(interpreted.svg, compiled.svg);
  assert.deepEqual(compiled.marks.area, { series: 1, items: 5 });
  assert.deepEqual(compiled.marks.line, { series: 3, items: 15 }, 'median, min and max');
  assert.equal(compiled.marks.symbol.items, 5, 'a point per epoch on the median');
  assert.match(compiled.svg, /Layer 0: gamma per epoch/);
  assert.deepEqual((spec as any).layer[0].encoding.x.scale.domain, [0, 10]);
  // Two variants: a band and three lines each.
  const both = bandSpec([...bandPoints(epochs(4), 0, 'std', 'with BN'), ...bandPoints(epochs(4), 0, 'std', 'without BN')], 'std', { width: 400 });
  const drawn = await render(both, true);
  assert.deepEqual(drawn.marks.area, { series: 2, items: 10 });
  assert.equal(drawn.marks.line.series, 6);
  assert.match(drawn.svg, /without BN/);
});

test('driftSpec draws a median line and a band per layer, and per variant when models are overlaid', async () => {
  const one = await render(driftSpec(driftPoints(epochs(5)), { width: 400 }), true);
  assert.deepEqual(one.marks.area, { series: 2, items: 10 });
  assert.deepEqual(one.marks.line, { series: 2, items: 10 });
  assert.match(one.svg, /layer 1/);
  assert.match(one.svg, /Mean drift/);
  const spec = driftSpec([...driftPoints(epochs(5), 'meanDrift', 'with BN'), ...driftPoints(epochs(5, 4), 'meanDrift', 'without BN')], { width: 400, epochs: 8 });
  const compiled = await render(spec, false);
  const overlaid = await render(spec, true);
  assert.equal(overlaid.svg, compiled.svg);
  assert.deepEqual(overlaid.marks.area, { series: 4, items: 20 });
  assert.deepEqual(overlaid.marks.line, { series: 4, items: 20 });
  assert.match(overlaid.svg, /with BN/);
  assert.match(overlaid.svg, /without BN/);
  assert.equal((spec as any).layer[1].encoding.strokeDash.field, 'layer');
});
