// How a network is written in the dashboard: inputs → hidden layers → outputs.
export function networkOf(inputDim: number, hidden: readonly number[], outputDim: number, batchNorm?: boolean): string {
  const layers = hidden.map((units) => (batchNorm ? `${units} (BN)` : String(units)));
  return [String(inputDim), ...layers, String(outputDim)].join(' → ');
}
