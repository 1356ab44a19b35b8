// The learning rate per epoch, from a history that may grow; nothing when no epoch reports its rate.
import { useMemo } from 'preact/hooks';
import { learningRateSpec, ratePoints } from '../../../src/charts/learning-rate.js';
import { CHART_DATA } from '../../../src/charts/training-curves.js';
import type { EpochMetrics } from '../api/types.js';
import { Chart } from './chart.js';

export function LearningRateChart({ history, epochs }: { history: readonly EpochMetrics[]; epochs?: number }) {
  const points = useMemo(() => ratePoints(history), [history]);
  const spec = useMemo(() => learningRateSpec(points, { epochs }), [points, epochs]);
  if (points.length === 0) return null;
  return (
    <div class="charts">
      <Chart name="learning-rate" spec={spec} dataset={CHART_DATA} caption="Learning rate per epoch (training.learningRateSchedule)" />
    </div>
  );
}
