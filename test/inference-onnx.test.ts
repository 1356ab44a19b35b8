// The ONNX export and the onnxruntime engine: same predictions as the float64 reference within 1e-5,
// the BN layers visible in the graph with their moving statistics, and auto picking per model size.
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import {
  ONNX_MIN_MULTIPLY_ADDS, checkpointToOnnx, createDirectEngine, createFoldedEngine, createInferenceEngine, createOnnxEngine,
  loadOnnxRuntime, multiplyAdds,
} from '../src/inference/index.js';
import { ModelProto } from '../src/inference/onnx/onnx-schema.js';
import { ONNX_OUTPUT } from '../src/inference/onnx/checkpoint-to-onnx.js';
import type { OnnxRuntime } from '../src/inference/onnx/onnx-engine.js';
import type { CheckpointDocument } from '../src/schemas/checkpoint.js';
import type { ActivationName, TaskName } from '../src/schemas/model-spec.js';
import { createPrng } from '../src/util/prng.js';
import { makeCheckpoint, randomRows, type CheckpointOptions } from './helpers/make-checkpoint.js';
import { fromDocument } from '../src/checkpoint/document.js';

const ort = await loadOnnxRuntime();
const direct = createDirectEngine();

test('onnxruntime-node loads on this machine (an optional dependency that npm ci installs)', () => {
  assert.ok(!(ort instanceof Error), ort instanceof Error ? ort.message : '');
});
if (ort instanceof Error) throw ort;
const onnx = createOnnxEngine(ort);

/** |a - b| <= 1e-5 * max(1, |b|) for every output: float32 against the float64 reference. */
function assertWithin(actual: number[][], expected: number[][], what: string): number {
  let worst = 0;
  assert.equal(actual.length, expected.length, `${what}: rows`);
  for (let r = 0; r < expected.length; r++) {
    assert.equal(actual[r].length, expected[r].length, `${what}: row ${r} width`);
    for (let j = 0; j < expected[r].length; j++) {
      const err = Math.abs(actual[r][j] - expected[r][j]) / Math.max(1, Math.abs(expected[r][j]));
      assert.ok(err <= 1e-5, `${what}: row ${r}[${j}] ${actual[r][j]} vs ${expected[r][j]}`);
      worst = Math.max(worst, err);
    }
  }
  return worst;
}

const TASKS: TaskName[] = ['binary', 'multiclass', 'regression'];
const ACTIVATIONS: ActivationName[] = ['relu', 'tanh', 'sigmoid', 'linear'];
const BN_VARIANTS = [{ placement: 'before-activation' as const }, { placement: 'after-activation' as const }, { enabled: false }];

test('onnx equals the direct reference within 1e-5 on random checkpoints of every task, activation and BN placement', async () => {
  const p = createPrng(4242);
  let cases = 0;
  for (const task of TASKS) {
    for (const activation of ACTIVATIONS) {
      for (const batchNorm of BN_VARIANTS) {
        const hidden = Array.from({ length: 1 + p.int(3) }, () => 1 + p.int(40));
        const inputDim = 1 + p.int(30);
        const opts: CheckpointOptions = { inputDim, hidden, task, activation, batchNorm, classes: 2 + p.int(8), seed: p.int(1e9), meanScale: 1 + p.int(20) };
        const doc = makeCheckpoint(opts);
        const rows = randomRows(30, inputDim, p.int(1e9));
        const reference = await (await direct.load(fromDocument(doc))).predict(rows);
        assertWithin(await (await onnx.load(fromDocument(doc))).predict(rows), reference, JSON.stringify(opts));
        cases++;
      }
    }
  }
  assert.equal(cases, 36);
});

test('the MNIST-size net (784-256-128-64-10, BN before ReLU) on onnx stays within 1e-5 of the reference', async () => {
  const doc = makeCheckpoint({ inputDim: 784, hidden: [256, 128, 64], task: 'multiclass', classes: 10, seed: 77 });
  const rows = randomRows(20, 784, 78);
  const model = await onnx.load(fromDocument(doc));
  assert.equal(model.engine, 'onnx');
  const reference = await (await direct.load(fromDocument(doc))).predict(rows);
  assertWithin(await model.predict(rows), reference, 'batch');
  assertWithin(await Promise.all(rows.map((r) => model.predictOne(r))), reference, 'one by one');
});

test('onnx: a row gives the same answer alone, in a batch, in any order and while other runs are in flight', async () => {
  const doc = makeCheckpoint({ inputDim: 5, hidden: [16, 8], task: 'multiclass', classes: 4, seed: 3 });
  const model = await onnx.load(fromDocument(doc));
  const rows = randomRows(101, 5, 11);
  const one = await model.predictOne(rows[42]);
  const batch = await model.predict(rows);
  assert.deepStrictEqual(batch[42], one);
  assert.deepStrictEqual((await model.predict([...rows].reverse()))[100 - 42], one);
  const concurrent = await Promise.all(rows.map((r) => model.predictOne(r)));
  for (let r = 0; r < rows.length; r++) assert.deepStrictEqual(concurrent[r], batch[r], `row ${r}`);
});

test('onnx: explain traces h, hhat and r like the reference and its y is the engine\'s own prediction', async () => {
  for (const placement of ['before-activation', 'after-activation'] as const) {
    const doc = makeCheckpoint({ inputDim: 3, hidden: [6, 5], task: 'regression', activation: 'tanh', batchNorm: { placement }, seed: 5 });
    const x = [0.3, -1.2, 2.5];
    const model = await onnx.load(fromDocument(doc));
    const e = await model.explain(x);
    assert.deepStrictEqual(e.batchNorm, (await (await direct.load(fromDocument(doc))).explain(x)).batchNorm);
    assert.deepStrictEqual(e.y, await model.predictOne(x));
  }
});

test('every engine refuses rows of the wrong width or with non-numbers instead of padding them', async () => {
  const doc = makeCheckpoint({ inputDim: 3, hidden: [4], task: 'regression' });
  for (const engine of [direct, createFoldedEngine(), onnx]) {
    const model = await engine.load(fromDocument(doc));
    await assert.rejects(() => model.predictOne([1, 2]), /expected 3 features, got 2/, engine.name);
    await assert.rejects(() => model.predict([[1, 2, 3], [1, 2, 3, 4]]), /rows\[1\]: expected 3 features, got 4/, engine.name);
    await assert.rejects(() => model.predictOne([1, Number.NaN, 3]), /x\[1\]: must be a finite number/, engine.name);
    await assert.rejects(() => model.explain([1, 2, '3' as unknown as number]), /x\[2\]/, engine.name);
    assert.deepEqual(await model.predict([]), [], engine.name);
  }
});

interface DecodedModel {
  irVersion: number;
  opsetImport: { version: number }[];
  metadataProps: { key: string; value: string }[];
  graph: {
    node: { opType: string; input: string[]; output: string[]; attribute?: { name: string; f?: number; i?: number }[] }[];
    initializer: { name: string; dims: number[]; rawData: Uint8Array }[];
    input: { name: string; type: { tensorType: { shape: { dim: { dimValue?: number; dimParam?: string }[] } } } }[];
    output: { name: string; type: { tensorType: { shape: { dim: { dimValue?: number; dimParam?: string }[] } } } }[];
  };
}

function decode(bytes: Uint8Array): DecodedModel {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number }) as unknown as DecodedModel;
}

function floats(raw: Uint8Array): number[] {
  const copy = new Uint8Array(raw); // a copy: rawData may be an unaligned view into the decoded bytes
  return Array.from(new Float32Array(copy.buffer, 0, copy.byteLength / 4));
}

test('the ONNX graph keeps every layer in order, BN in inference mode with the checkpoint\'s moving statistics', () => {
  const doc: CheckpointDocument = makeCheckpoint({ inputDim: 4, hidden: [3, 2], task: 'multiclass', classes: 3, seed: 8 });
  const m = decode(checkpointToOnnx(fromDocument(doc)));
  assert.equal(m.opsetImport[0].version, 15);
  assert.deepEqual(m.graph.node.map((n) => n.opType), [
    'Gemm', 'BatchNormalization', 'Relu', 'Gemm', 'BatchNormalization', 'Relu', 'Gemm', 'Softmax', 'Identity',
  ]);
  assert.equal(m.graph.input[0].name, 'x');
  assert.deepEqual(m.graph.input[0].type.tensorType.shape.dim, [{ dimParam: 'N' }, { dimValue: 4 }]);
  assert.equal(m.graph.output[0].name, 'y');
  assert.deepEqual(m.graph.output[0].type.tensorType.shape.dim, [{ dimParam: 'N' }, { dimValue: 3 }]);
  assert.deepEqual(Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value])), { modelId: doc.modelId, epoch: String(doc.epoch), task: 'multiclass' });

  const inits = new Map(m.graph.initializer.map((t) => [t.name, t]));
  for (const layer of doc.layers) {
    if (layer.type === 'batchNorm') {
      const node = m.graph.node.find((n) => n.output[0] === layer.name);
      assert.ok(node);
      assert.deepEqual(node.input.slice(1), ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((f) => `${layer.name}.${f}`));
      assert.equal(node.attribute?.find((a) => a.name === 'epsilon')?.f, Math.fround(layer.epsilon));
      assert.equal(node.attribute?.some((a) => a.name === 'training_mode' && a.i === 1), false);
      assert.deepEqual(floats(inits.get(`${layer.name}.moving_mean`)!.rawData), layer.movingMean.map(Math.fround));
      assert.deepEqual(floats(inits.get(`${layer.name}.moving_variance`)!.rawData), layer.movingVariance.map(Math.fround));
      assert.deepEqual(floats(inits.get(`${layer.name}.gamma`)!.rawData), layer.gamma.map(Math.fround));
      assert.deepEqual(floats(inits.get(`${layer.name}.beta`)!.rawData), layer.beta.map(Math.fround));
    } else if (layer.type === 'dense') {
      const kernel = inits.get(`${layer.name}.kernel`)!;
      assert.deepEqual(kernel.dims, [layer.kernel.length, layer.kernel[0].length]);
      assert.deepEqual(floats(kernel.rawData), layer.kernel.flat().map(Math.fround));
    }
  }
});

test('the folded graph the engine runs has no BatchNormalization node left', () => {
  const before = makeCheckpoint({ inputDim: 4, hidden: [3, 2], task: 'binary', seed: 8 });
  assert.deepEqual(decode(checkpointToOnnx(fromDocument(before), { fold: true })).graph.node.map((n) => n.opType), [
    'Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm', 'Sigmoid', 'Identity',
  ]);
  // A BN after its activation cannot go into the Gemm: it becomes r = h * scale + shift.
  const after = makeCheckpoint({ inputDim: 4, hidden: [3], task: 'regression', batchNorm: { placement: 'after-activation' }, seed: 8 });
  assert.deepEqual(decode(checkpointToOnnx(fromDocument(after), { fold: true })).graph.node.map((n) => n.opType), ['Gemm', 'Relu', 'Mul', 'Add', 'Gemm', 'Identity']);
});

test('auto serves small models with folded TypeScript and large ones with onnxruntime', async () => {
  const { engine, note } = await createInferenceEngine('auto');
  assert.match(note, /onnxruntime-node/);
  const small = makeCheckpoint({ inputDim: 2, hidden: [3, 2], task: 'binary' });
  const large = makeCheckpoint({ inputDim: 784, hidden: [256, 128, 64], task: 'multiclass', classes: 10 });
  assert.ok(multiplyAdds(fromDocument(small)) < ONNX_MIN_MULTIPLY_ADDS && multiplyAdds(fromDocument(large)) >= ONNX_MIN_MULTIPLY_ADDS);
  assert.equal((await engine.load(fromDocument(small))).engine, 'folded');
  assert.equal((await engine.load(fromDocument(large))).engine, 'onnx');
  assert.equal(multiplyAdds(fromDocument(large)), 784 * 256 + 256 * 128 + 128 * 64 + 64 * 10);
  for (const choice of ['onnx', 'folded', 'direct'] as const) {
    const selected = await createInferenceEngine(choice);
    assert.equal((await selected.engine.load(fromDocument(small))).engine, choice);
  }
});

test('without onnxruntime-node, auto serves every model with folded and onnx refuses to start', async () => {
  const missing = async () => new Error("Cannot find package 'onnxruntime-node'");
  const auto = await createInferenceEngine('auto', missing);
  assert.match(auto.note, /^folded for every model: onnxruntime-node cannot be loaded \(Cannot find package 'onnxruntime-node'\)$/);
  const large = makeCheckpoint({ inputDim: 784, hidden: [256, 128, 64], task: 'multiclass', classes: 10 });
  assert.equal((await auto.engine.load(fromDocument(large))).engine, 'folded');
  await assert.rejects(
    createInferenceEngine('onnx', missing),
    /^Error: INFERENCE_ENGINE=onnx but onnxruntime-node cannot be loaded \(Cannot find package 'onnxruntime-node'\); install it or set INFERENCE_ENGINE=auto$/,
  );
  let loads = 0;
  const counting = async () => {
    loads++;
    return new Error('not to be loaded');
  };
  await createInferenceEngine('folded', counting);
  await createInferenceEngine('direct', counting);
  assert.equal(loads, 0, 'folded and direct never load onnxruntime');
});

test('an onnxruntime that loads but answers wrong or cannot run fails the self-test: auto falls back, onnx refuses', async () => {
  assert.ok(!(ort instanceof Error));
  const create = ort.InferenceSession.create.bind(ort.InferenceSession) as (...args: unknown[]) => Promise<{ run: (feeds: unknown) => Promise<Record<string, { data: Float32Array }>> }>;
  const broken = (session: Record<string, unknown>) => ({ ...ort, InferenceSession: session }) as unknown as OnnxRuntime;
  const wrong = broken({
    create: async (...args: unknown[]) => {
      const real = await create(...args);
      // A runtime built for another CPU could run and return garbage: zeros here.
      return { run: async (feeds: unknown) => ({ [ONNX_OUTPUT]: { data: new Float32Array((await real.run(feeds))[ONNX_OUTPUT].data.length) } }) };
    },
  });
  const unloadable = broken({
    create: async () => {
      throw new Error('libonnxruntime.so.1: cannot open shared object file');
    },
  });
  for (const [runtime, reason] of [
    [wrong, 'inference engine onnx computed 0 for the probe, expected 6'],
    [unloadable, 'libonnxruntime.so.1: cannot open shared object file'],
  ] as const) {
    const auto = await createInferenceEngine('auto', async () => runtime);
    assert.equal(auto.note, `folded for every model: onnxruntime-node fails its self-test (${reason})`);
    const large = makeCheckpoint({ inputDim: 784, hidden: [256, 128, 64], task: 'multiclass', classes: 10 });
    assert.equal((await auto.engine.load(fromDocument(large))).engine, 'folded');
    await assert.rejects(createInferenceEngine('onnx', async () => runtime), (err: Error) => {
      assert.equal(err.message, `INFERENCE_ENGINE=onnx but onnxruntime-node fails its self-test (${reason}); set INFERENCE_ENGINE=auto`);
      return true;
    });
  }
});

const ORT_CI_VARIABLES = ['CI', 'TF_BUILD', 'GITHUB_ACTIONS', 'GITLAB_CI', 'CIRCLECI', 'TRAVIS', 'JENKINS_URL', 'CODEBUILD_BUILD_ID', 'BUILDKITE', 'TEAMCITY_VERSION', 'APPVEYOR', 'BITBUCKET_BUILD_NUMBER'];

/** Loads onnxruntime through the engine in a fresh process with TMPDIR of its own; what it leaves there. */
function ortTmpFiles(telemetry: string | undefined): string[] {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bn-ort-tmp-'));
  try {
    const engineModule = new URL('../src/inference/index.js', import.meta.url).href;
    const helperModule = new URL('./helpers/make-checkpoint.js', import.meta.url).href;
    const script = `
      const { createInferenceEngine } = await import(${JSON.stringify(engineModule)});
      const { makeFrozen } = await import(${JSON.stringify(helperModule)});
      const { engine } = await createInferenceEngine('onnx');
      const model = await engine.load(makeFrozen({ inputDim: 3, hidden: [4], task: 'binary' }));
      await model.predictOne([1, 2, 3]);
      console.log(process.env.ORT_DISABLE_TELEMETRY);`;
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
    delete env.ORT_DISABLE_TELEMETRY;
    // onnxruntime keeps its telemetry off by itself under a CI system (CI=true and these, read from the
    // library's strings); without them the child runs as on a user's machine, where it is on by default.
    for (const name of ORT_CI_VARIABLES) delete env[name];
    if (telemetry !== undefined) env.ORT_DISABLE_TELEMETRY = telemetry;
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stdout.trim(), telemetry ?? '1');
    return fs.readdirSync(tmp, { recursive: true }).map(String);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

test('onnxruntime is loaded with its telemetry off: nothing is written to TMPDIR (and with it on, files appear)', () => {
  // The control run: with telemetry left on (and no CI variable that turns it off by itself), this
  // onnxruntime build writes its session and debug files, so an empty TMPDIR below means the switch
  // worked, not that nothing would have been written anyway.
  assert.notDeepEqual(ortTmpFiles('0'), [], `with ORT_DISABLE_TELEMETRY=0 and none of ${ORT_CI_VARIABLES.join(', ')} set, onnxruntime wrote nothing into TMPDIR: the check below would prove nothing`);
  assert.deepEqual(ortTmpFiles(undefined), []);
});
