// Standard TF.js layers artifacts (model.json + weights.bin) of a tf.layers Sequential model that
// computes exactly what the checkpoint describes. The topology and weight manifest depend only on the
// spec, so they are captured once per run through tf.io.withSaveHandler; every epoch then only packs
// the snapshot's bytes in the manifest's order, matched BY NAME (never by getWeights() position).
import * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '../schemas/model-spec.js';
import type { TfjsArtifacts } from '../schemas/checkpoint.js';
import type { Snapshot } from './checkpoint-format.js';
import { outputActivation } from './losses.js';
import { hasBias } from './network.js';

export interface ArtifactTemplate {
  modelTopology: unknown;
  weightSpecs: tf.io.WeightsManifestEntry[];
  format?: string;
  generatedBy?: string;
}

function buildSequential(spec: ModelSpec): tf.Sequential {
  const model = tf.sequential();
  const { batchNorm, activation } = spec;
  const bias = hasBias(spec);
  const bn = (i: number) =>
    tf.layers.batchNormalization({ name: `batch_norm_${i}`, axis: -1, momentum: batchNorm.momentum, epsilon: batchNorm.epsilon });
  spec.hidden.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        name: `dense_${i}`,
        units,
        useBias: bias,
        kernelInitializer: 'zeros', // values come from the checkpoint
        ...(i === 0 ? { batchInputShape: [null, spec.inputDim] } : {}),
      }),
    );
    const act = tf.layers.activation({ name: `activation_${i}`, activation });
    if (!batchNorm.enabled) model.add(act);
    else if (batchNorm.placement === 'before-activation') (model.add(bn(i)), model.add(act));
    else (model.add(act), model.add(bn(i)));
  });
  model.add(tf.layers.dense({ name: 'dense_out', units: spec.outputDim, useBias: true, kernelInitializer: 'zeros' }));
  model.add(tf.layers.activation({ name: 'activation_out', activation: outputActivation(spec.task) }));
  return model;
}

export async function artifactTemplate(spec: ModelSpec): Promise<ArtifactTemplate> {
  const model = buildSequential(spec);
  try {
    let captured: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        captured = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    if (!captured?.weightSpecs) throw new Error('internal: the layers model saved no weight specs');
    return {
      modelTopology: captured.modelTopology,
      weightSpecs: captured.weightSpecs,
      format: captured.format,
      generatedBy: captured.generatedBy,
    };
  } finally {
    model.dispose();
  }
}

export function buildArtifacts(t: ArtifactTemplate, s: Snapshot): TfjsArtifacts {
  const total = t.weightSpecs.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  const all = new Float32Array(total);
  let offset = 0;
  for (const w of t.weightSpecs) {
    const values = s.get(w.name);
    const size = w.shape.reduce((a, b) => a * b, 1);
    if (w.dtype !== 'float32' || !values || values.length !== size) {
      throw new Error(`internal: no float32 values of size ${size} for artifact weight ${w.name}`);
    }
    all.set(values, offset);
    offset += size;
  }
  return {
    modelJson: {
      format: t.format ?? 'layers-model',
      generatedBy: t.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: null,
      modelTopology: t.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: t.weightSpecs }],
    },
    weightsBin: new Uint8Array(all.buffer),
  };
}
