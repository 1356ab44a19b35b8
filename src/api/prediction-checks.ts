// What every prediction route checks of the values it is given, and the class it reports, shared by
// POST /v1/models/:id/predict and the Open Inference Protocol's infer route so that both accept and
// answer the same.
import { valueProblem } from '../datasets/validate.js';
import { ApiError } from './plugins/app/errors.js';

/**
 * Every value a usable number by the rule training data follows (datasets/validate.ts): JSON numbers like
 * 1e999 parse to Infinity (the schema's `number` lets them through), binary FP32 may hold NaN, and near
 * Number.MAX_VALUE the forward pass overflows. `field` names the values, `field[k]` the offending one.
 */
export function checkValues(values: ArrayLike<number>, field: string): void {
  for (let k = 0; k < values.length; k++) {
    const problem = valueProblem(values[k]);
    if (problem !== undefined) throw new ApiError(400, `${field}[${k}]: ${problem}`, `${field}[${k}]`);
  }
}

/** One input row: inputDim values, each as checkValues wants it. */
export function checkRow(row: readonly number[], inputDim: number, field: string): void {
  if (row.length !== inputDim) {
    throw new ApiError(400, `${field} has ${row.length} values; the model expects inputDim=${inputDim} features`, field);
  }
  checkValues(row, field);
}

/** binary: y >= 0.5; multiclass: argmax; regression: none. */
export function classOf(task: string, y: ArrayLike<number>): number | undefined {
  if (task === 'binary') return y[0] >= 0.5 ? 1 : 0;
  if (task !== 'multiclass') return undefined;
  let best = 0;
  for (let k = 1; k < y.length; k++) if (y[k] > y[best]) best = k;
  return best;
}
