// Loss and (for classification) accuracy per epoch, training and validation, from a history that may grow.
import { useMemo } from 'preact/hooks';
import { CHART_DATA, curvePoints, curveSpec } from '../../../src/charts/training-curves.js';
import type { EpochMetrics } from '../api/types.js';
import { Chart } from './chart.js';

interface Props {
  history: readonly EpochMetrics[];
  /** Epochs the job trains: the x axis spans them from the start. */
  epochs?: number;
  classification: boolean;
}

export function TrainingCurves({ history, epochs, classification }: Props) {
  const loss = useMemo(() => curveSpec(curvePoints(history, 'loss'), 'loss', { epochs }), [history, epochs]);
  const accuracy = useMemo(() => curveSpec(curvePoints(history, 'accuracy'), 'accuracy', { epochs }), [history, epochs]);
  return (
    <div class="charts">
      <Chart name="loss" spec={loss} dataset={CHART_DATA} caption="Loss per epoch: training (batch statistics) and validation (frozen statistics)" />
      {classification && <Chart name="accuracy" spec={accuracy} dataset={CHART_DATA} caption="Accuracy per epoch: training and validation" />}
    </div>
  );
}
