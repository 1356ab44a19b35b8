// The BN panel's and the experiment page's BN charts: bands over epochs of one quantity of one hidden
// layer, and the drift of a layer's input, from the specifications of src/charts/bn-stats.ts (shared
// with the server-side reports).
import { useMemo } from 'preact/hooks';
import type { TopLevelSpec } from 'vega-lite';
import { CHART_DATA, bandPoints, bandSpec, driftPoints, driftSpec, type BandQuantity, type DriftMeasure } from '../../../src/charts/bn-stats.js';
import type { BnStatsEpoch } from '../api/bn-stats.js';
import { Chart } from './chart.js';

export type { BandQuantity, DriftMeasure };

const WORDS: Record<BandQuantity | DriftMeasure, string> = {
  gamma: 'γ (scale)',
  beta: 'β (shift)',
  movingMean: 'moving mean',
  movingVariance: 'moving variance',
  mean: 'pre-activation mean',
  std: 'pre-activation std',
  meanDrift: 'mean drift',
  stdDrift: 'std drift',
};

interface LayerProps {
  epochs: readonly BnStatsEpoch[];
  layer: number;
  units: number;
  /** Epochs the job trains: the x axis spans them from the start. */
  planned?: number;
}

export function BandChart({ epochs, layer, units, planned, quantity }: LayerProps & { quantity: BandQuantity }) {
  const spec = useMemo(() => bandSpec(bandPoints(epochs, layer, quantity), quantity, { layer, epochs: planned }), [epochs, layer, quantity, planned]);
  return (
    <Chart
      name={`band-${layer}-${quantity}`}
      spec={spec}
      dataset={CHART_DATA}
      caption={`Layer ${layer}, ${WORDS[quantity]} across its ${units} units per epoch: 10-90 % band, median line, min and max dashed`}
    />
  );
}

/** One drift measure of one layer: the module draws every layer it is given, so it is given one. */
function layerDriftSpec(points: ReturnType<typeof driftPoints>, layer: number, measure: DriftMeasure, planned?: number): TopLevelSpec {
  const own = points.filter((p) => p.layer === `layer ${layer}`);
  return { ...driftSpec(own, { measure, epochs: planned }), title: `Layer ${layer}: ${WORDS[measure]} of its input per epoch` } as TopLevelSpec;
}

export function DriftChart({ epochs, layer, planned, measure }: LayerProps & { measure: DriftMeasure }) {
  const spec = useMemo(() => layerDriftSpec(driftPoints(epochs, measure), layer, measure, planned), [epochs, layer, measure, planned]);
  const what = measure === 'meanDrift' ? 'the change of each unit\'s mean, in its previous standard deviations' : 'the relative change of each unit\'s standard deviation';
  return (
    <Chart
      name={`${measure === 'meanDrift' ? 'drift-mean' : 'drift-std'}-${layer}`}
      spec={spec}
      dataset={CHART_DATA}
      caption={`Layer ${layer}, ${WORDS[measure]} per epoch (${what}): median line, 10-90 % band`}
    />
  );
}

/** One line per variant: the mean drift of one layer's input per epoch (an experiment's overlay). */
export function DriftOverlayChart({ layer, variants, planned }: { layer: number; variants: { variant: string; epochs: readonly BnStatsEpoch[] }[]; planned?: number }) {
  const spec = useMemo(
    () => layerDriftSpec(variants.flatMap((v) => driftPoints(v.epochs, 'meanDrift', v.variant)), layer, 'meanDrift', planned),
    [layer, variants, planned],
  );
  return (
    <Chart
      name={`drift-overlay-${layer}`}
      spec={spec}
      dataset={CHART_DATA}
      caption={`Layer ${layer}: mean drift of its input per epoch, one colour per variant (median line, 10-90 % band)`}
    />
  );
}
