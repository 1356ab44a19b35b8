// The standard TF.js layers model.json (topology + weights manifest) of a tf.layers Sequential model
// that computes exactly what the checkpoint describes. It depends only on the spec, so it is captured
// once per model through tf.io.withSaveHandler; the store writes weights.bin in the manifest's order,
// matching weights BY NAME (never by getWeights() position).
import * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '../schemas/model-spec.js';
import type { TfjsModelJson } from '../schemas/checkpoint.js';
import { outputActivation } from './losses.js';
import { hasBias } from './network.js';

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

/** model.json of the spec's layers model; its manifest names weights.bin beside it. */
export async function tfjsModelJson(spec: ModelSpec): Promise<TfjsModelJson> {
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
      format: captured.format ?? 'layers-model',
      generatedBy: captured.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: null,
      modelTopology: captured.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: captured.weightSpecs.map((w) => ({ name: w.name, shape: [...w.shape], dtype: w.dtype })) }],
    };
  } finally {
    model.dispose();
  }
}
