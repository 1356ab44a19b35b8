// How an experiment's variants are built: the base with each variant's fields merged in. Top-level fields
// of model and training are replaced; model.batchNorm and model.weightInit are merged field by field (a
// variant that sets batchNorm.enabled keeps the base's momentum). Every variant trains with one seed.
import { takesScale } from '../datasets/builtin.js';
import type { ModelRequest, TrainingOptions } from '../schemas/model-spec.js';

export type ModelPart = Partial<ModelRequest>;
export type TrainingPart = Partial<TrainingOptions>;
export type DatasetScale = 'unit' | 'raw';

export interface VariantSettings {
  model?: ModelPart;
  training?: TrainingPart;
  dataset?: { scale: DatasetScale };
}

/** Fields merged one level deeper than the rest. */
const NESTED = ['batchNorm', 'weightInit'] as const;

export function mergeModel(base: ModelPart, over: ModelPart | undefined): ModelPart {
  const out: ModelPart = { ...base, ...over };
  for (const key of NESTED) {
    if (base[key] !== undefined || over?.[key] !== undefined) out[key] = { ...base[key], ...over?.[key] } as never;
  }
  return out;
}

export function mergeTraining(base: TrainingPart, over: TrainingPart | undefined): TrainingPart {
  return { ...base, ...over };
}

/** The variant's own settings: base, then the variant, then (templates) the caller's overrides. */
export function mergeSettings(...layers: (VariantSettings | undefined)[]): Required<Pick<VariantSettings, 'model' | 'training'>> & Pick<VariantSettings, 'dataset'> {
  let model: ModelPart = {};
  let training: TrainingPart = {};
  let dataset: VariantSettings['dataset'];
  for (const layer of layers) {
    if (!layer) continue;
    model = mergeModel(model, layer.model);
    training = mergeTraining(training, layer.training);
    dataset = layer.dataset ?? dataset;
  }
  return { model, training, ...(dataset && { dataset }) };
}

const SCALED_ID = /^(builtin:[a-z0-9-]{1,64})(?:\?scale=(?:unit|raw))?$/;

/**
 * The dataset id a variant trains on: the experiment's, with the variant's scale when it sets one
 * (built-in image sets only: builtin:mnist?scale=raw); undefined when the dataset takes no scale.
 */
export function scaledDatasetId(datasetId: string, scale: DatasetScale | undefined): string | undefined {
  if (scale === undefined) return datasetId;
  const m = SCALED_ID.exec(datasetId);
  if (!m || !takesScale(m[1])) return undefined;
  return scale === 'raw' ? `${m[1]}?scale=raw` : m[1];
}
