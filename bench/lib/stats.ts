// Small measuring helpers shared by the bench sections.
import os from 'node:os';

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export interface Latency {
  medianUs: number;
  p99Us: number;
}

/** Calls fn `calls` times after `warmup` untimed calls; each call timed alone. */
export async function latencyOf(fn: () => unknown, calls: number, warmup = Math.min(2000, calls)): Promise<Latency> {
  for (let i = 0; i < warmup; i++) await fn();
  const times = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await fn();
    times[i] = (performance.now() - t0) * 1000;
  }
  const sorted = Array.from(times).sort((a, b) => a - b);
  return { medianUs: quantile(sorted, 0.5), p99Us: quantile(sorted, 0.99) };
}

export function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'cpu'} x${cpus.length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

export const round = (v: number, digits = 1): number => Number(v.toFixed(digits));
