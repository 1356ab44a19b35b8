// The bn-comparisons template: four comparisons of what Batch Normalization changes (Ioffe & Szegedy,
// 2015), each trained without and with BN on a 784-256-128-64-10 ReLU network (with BN: Dense without
// bias -> BN -> ReLU, batchNorm placement before-activation), 10 epochs, 20 % of the rows held out for
// validation. Plain SGD, as the Keras original these comparisons come from.
import type { VariantSettings } from './merge.js';

export interface TemplateVariant extends VariantSettings {
  name: string;
  comparison: string;
}

export interface TemplateComparison {
  /** a short name, used in variant names and the report */
  name: string;
  description: string;
  settings: VariantSettings;
  /** Test accuracy the Keras original reached (SGD, 48,000 MNIST training images): without BN, with BN. */
  original: { withoutBn: number; withBn: number };
}

export const TEMPLATE_OPTIMIZER = 'sgd' as const;

export const TEMPLATE_BASE: VariantSettings = {
  model: { hidden: [256, 128, 64], activation: 'relu', task: 'multiclass', batchNorm: { placement: 'before-activation' }, weightInit: { method: 'glorot-uniform' } },
  training: { epochs: 10, validationSplit: 0.2, optimizer: TEMPLATE_OPTIMIZER },
};

export const BN_COMPARISONS: readonly TemplateComparison[] = [
  {
    name: 'convergence',
    description: 'lr 0.01, batch 128, Glorot uniform initialisation',
    settings: { training: { learningRate: 0.01, batchSize: 128 } },
    original: { withoutBn: 0.9657, withBn: 0.9739 },
  },
  {
    name: 'big learning rate',
    description: 'lr 1, batch 1024',
    settings: { training: { learningRate: 1, batchSize: 1024 } },
    original: { withoutBn: 0.0892, withBn: 0.9505 },
  },
  {
    name: 'big weights',
    description: 'lr 0.01, batch 128, weights uniform(-5, 5)',
    settings: { model: { weightInit: { method: 'uniform', min: -5, max: 5 } }, training: { learningRate: 0.01, batchSize: 128 } },
    original: { withoutBn: 0.3525, withBn: 0.966 },
  },
  {
    name: 'raw pixels',
    description: 'lr 0.01, batch 128, no data normalisation (pixels 0-255)',
    settings: { training: { learningRate: 0.01, batchSize: 128 }, dataset: { scale: 'raw' } },
    original: { withoutBn: 0.1135, withBn: 0.9766 },
  },
];

export const variantName = (comparison: string, bn: boolean) => `${comparison} (${bn ? 'BN' : 'no BN'})`;

/** The eight variants, each comparison without BN then with it; settings not yet merged with the base. */
export function bnComparisonVariants(): TemplateVariant[] {
  return BN_COMPARISONS.flatMap((c) =>
    [false, true].map((bn) => ({
      name: variantName(c.name, bn),
      comparison: c.name,
      ...c.settings,
      model: { ...c.settings.model, batchNorm: { enabled: bn } },
    })),
  );
}
