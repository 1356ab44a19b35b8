// The chart specifications of src/charts, the one source for the dashboard and server-side reports:
// they compile with Vega-Lite and render with Vega in Node, and Vega's expression interpreter (what the
// dashboard runs under its CSP, without eval) draws exactly what Vega's compiled expressions draw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, View } from 'vega';
import { compile } from 'vega-lite';
import { expressionInterpreter } from 'vega-interpreter';
import { CHART_DATA, curvePoints, curveSpec } from '../src/charts/training-curves.js';
import type { EpochMetrics } from '../src/schemas/checkpoint.js';

function history(epochs: number, validation = true): EpochMetrics[] {
  return Array.from({ length: epochs }, (_, i) => ({
    epoch: i + 1,
    loss: 1 / (i + 1),
    accuracy: 0.5 + i / (2 * epochs),
    ...(validation && { valLoss: 1.2 / (i + 1), valAccuracy: 0.5 + i / (3 * epochs) }),
    samplesPerSecond: 1000,
    durationMs: 10,
  }));
}

async function render(spec: ReturnType<typeof curveSpec>, interpreter: boolean, rows?: object[]) {
  const runtime = parse(compile(spec).spec, undefined, interpreter ? { ast: true } : undefined);
  const view = new View(runtime, { renderer: 'none', ...(interpreter && { expr: expressionInterpreter }) });
  if (rows) view.data(CHART_DATA, rows);
  await view.runAsync();
  const svg = await view.toSVG();
  const symbols = (view.scenegraph() as any).root.items[0].items.flatMap(function walk(mark: any): any[] {
    const own = mark.marktype === 'symbol' && mark.role === 'mark' ? mark.items : [];
    return [...own, ...(mark.items ?? []).flatMap((item: any) => (item.items ?? []).flatMap(walk))];
  });
  view.finalize();
  return { svg, symbols: symbols.length };
}

test('curvePoints: training and validation values per epoch, long format; missing or non-finite values left out', () => {
  const h = history(3);
  const loss = curvePoints(h, 'loss');
  assert.deepEqual(loss.filter((p) => p.split === 'training').map((p) => p.value), [1, 0.5, 1 / 3]);
  assert.deepEqual(loss.filter((p) => p.split === 'validation').map((p) => p.epoch), [1, 2, 3]);
  assert.equal(curvePoints(history(3, false), 'accuracy').length, 3, 'no validation split: training only');
  const withNaN = [{ ...h[0], valLoss: Number.NaN }];
  assert.deepEqual(curvePoints(withNaN, 'loss').map((p) => p.split), ['training']);
  assert.deepEqual(curvePoints(h, 'loss', 'bn').map((p) => p.variant), Array(6).fill('bn'));
});

test('curveSpec renders a point per epoch and split, the same with the CSP-safe expression interpreter', async () => {
  const spec = curveSpec(curvePoints(history(5), 'loss'), 'loss', { epochs: 10, width: 400 });
  const compiled = await render(spec, false);
  const interpreted = await render(spec, true);
  assert.equal(compiled.symbols, 10);
  assert.equal(interpreted.svg, compiled.svg);
  assert.match(compiled.svg, /Loss per epoch/);
  // The x axis already spans every epoch of the job, so a live chart does not rescale.
  assert.deepEqual((spec as any).encoding.x.scale.domain, [1, 10]);
});

test('new rows swapped into the named dataset are drawn without a new spec (the live chart)', async () => {
  const spec = curveSpec(curvePoints(history(2), 'loss'), 'loss', { epochs: 10, width: 400 });
  const later = await render(spec, true, curvePoints(history(7), 'loss'));
  assert.equal(later.symbols, 14);
});

test('accuracy is drawn on [0, 1]; variants overlay with colour per variant and dash per split', async () => {
  const acc = curveSpec(curvePoints(history(4), 'accuracy'), 'accuracy');
  assert.deepEqual((acc as any).encoding.y.scale.domain, [0, 1]);
  const overlay = curveSpec([...curvePoints(history(4), 'loss', 'with BN'), ...curvePoints(history(4), 'loss', 'without BN')], 'loss', { width: 400 });
  assert.equal((overlay as any).encoding.color.field, 'variant');
  assert.equal((overlay as any).encoding.strokeDash.field, 'split');
  const drawn = await render(overlay, true);
  assert.equal(drawn.symbols, 16);
  assert.match(drawn.svg, /with BN/);
  assert.match(drawn.svg, /without BN/);
});
