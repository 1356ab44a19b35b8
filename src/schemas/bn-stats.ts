// What Batch Normalization does, per epoch and per hidden layer, measured on a fixed probe batch of
// training rows: the distribution of each layer's pre-activation (the input of its BN layer, or the
// Dense output before the activation without BN), how far it moved since the previous epoch (the
// "internal covariate shift" of Ioffe & Szegedy, 2015), and the BN layer's own parameters. Written by
// the training child once per epoch (epoch 0 = the initialised network), kept beside the epoch log,
// never pruned with checkpoints, served by GET /v1/models/:modelId/bn-stats and drawn by the reports.
import { Type, type Static } from 'typebox';

/** The order of every Quantiles array. */
export const QUANTILE_NAMES = ['min', 'p10', 'median', 'p90', 'max'] as const;

export const Quantiles = Type.Array(Type.Number(), {
  minItems: 5,
  maxItems: 5,
  description: 'Across the layer\'s units: [min, 10 %, median, 90 %, max] (linear interpolation between order statistics)',
});
export type Quantiles = Static<typeof Quantiles>;

/** Thresholds of the collapse flags: a unit is flagged when its value is below them. */
export const COLLAPSE_THRESHOLDS = { movingVariance: 1e-4, absGamma: 1e-3 } as const;

export const LayerEpochStats = Type.Object(
  {
    layer: Type.Integer({ minimum: 0, description: 'Hidden layer index, 0 = nearest the input' }),
    units: Type.Integer({ minimum: 1 }),
    batchNorm: Type.Boolean({ description: 'Whether this hidden layer has a BN layer' }),
    mean: Quantiles,
    std: Type.Unsafe<Quantiles>({ ...Quantiles, description: 'Quantiles of the per-unit standard deviation (biased, over the probe rows)' }),
    meanDrift: Type.Optional(
      Type.Unsafe<Quantiles>({
        ...Quantiles,
        description: 'Quantiles of |mean_e - mean_(e-1)| / std_(e-1) per unit (absent at epoch 0): how far the unit\'s input moved, in its previous standard deviations',
      }),
    ),
    stdDrift: Type.Optional(
      Type.Unsafe<Quantiles>({
        ...Quantiles,
        description: 'Quantiles of |std_e / std_(e-1) - 1| per unit (absent at epoch 0): the relative change of its spread',
      }),
    ),
    gamma: Type.Optional(Quantiles),
    beta: Type.Optional(Quantiles),
    movingMean: Type.Optional(Quantiles),
    movingVariance: Type.Optional(Quantiles),
    collapsed: Type.Optional(
      Type.Object(
        {
          movingVariance: Type.Array(Type.Integer(), { description: `Units whose moving variance is below ${COLLAPSE_THRESHOLDS.movingVariance}` }),
          gamma: Type.Array(Type.Integer(), { description: `Units whose |gamma| is below ${COLLAPSE_THRESHOLDS.absGamma}` }),
        },
        { additionalProperties: false, description: 'BN layers only: the units flagged as collapsed (at most 64 of each listed)' },
      ),
    ),
  },
  { additionalProperties: false },
);
export type LayerEpochStats = Static<typeof LayerEpochStats>;

export const BnStatsEpoch = Type.Object(
  {
    epoch: Type.Integer({ minimum: 0, description: '0 = the network as initialised, before any step' }),
    layers: Type.Array(LayerEpochStats),
  },
  { additionalProperties: false },
);
export type BnStatsEpoch = Static<typeof BnStatsEpoch>;

export const BnStatsResponse = Type.Object(
  {
    modelId: Type.String(),
    probeRows: Type.Integer({ description: 'Rows of the probe batch (the first rows of the training part, the same every epoch)' }),
    quantiles: Type.Array(Type.String(), { description: 'The order of every quantile array: min, p10, median, p90, max' }),
    epochs: Type.Array(BnStatsEpoch),
  },
  { additionalProperties: false },
);
export type BnStatsResponse = Static<typeof BnStatsResponse>;
