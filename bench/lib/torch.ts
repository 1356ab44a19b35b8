// Runs bench/torch/torch_bench.py with the first Python that imports torch. The bench never installs it:
// without torch the PyTorch columns say why they are empty (Debian: apt-get install python3-torch
// libopenblas0-pthread).
import { spawnSync } from 'node:child_process';

/** Interpreters tried in order: a pyenv or venv python3 may shadow Debian's, which has python3-torch. */
const CANDIDATES = [process.env.BENCH_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => Boolean(p));

export interface TorchRunner {
  version: string;
  python: string;
  run<T>(request: Record<string, unknown>): T;
}

/** The first interpreter that imports every one of `modules`, and the version of the first module. */
export function findPython(modules: readonly string[]): { python: string; version: string } | undefined {
  for (const python of CANDIDATES) {
    const probe = spawnSync(python, ['-c', `import ${modules.join(', ')}; print(${modules[0]}.__version__)`], { encoding: 'utf8' });
    if (probe.status === 0) return { python, version: probe.stdout.trim() };
  }
  return undefined;
}

export function findTorch(): TorchRunner | { missing: string } {
  const found = findPython(['torch']);
  if (found) {
    const { python, version } = found;
    return {
      version,
      python,
      run<T>(request: Record<string, unknown>): T {
        const res = spawnSync(python, ['bench/torch/torch_bench.py'], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
        if (res.status !== 0) throw new Error(`torch_bench.py failed (${res.status}): ${res.stderr.trim().split('\n').at(-1)}`);
        return JSON.parse(res.stdout) as T;
      },
    };
  }
  return { missing: `no python3 with torch among ${CANDIDATES.join(', ')} (Debian: apt-get install python3-torch libopenblas0-pthread)` };
}

/** The thread counts both sides train with in the training comparisons; each side is taken at its best. */
export const TRAIN_THREADS = [1, 2] as const;

export interface TorchTrainRequest {
  inputDim: number;
  hidden: number[];
  classes: number;
  rows: number;
  epochs: number;
  batchSize: number;
  lr: number;
}

/** PyTorch's training samples/s over the epochs after the first (or of the best of them), on `threads` threads. */
export function torchTrainSamplesPerSecond(torch: TorchRunner, request: TorchTrainRequest, threads: number, of: 'all' | 'best' = 'all'): number {
  const res = torch.run<{ samplesPerSecond: number; bestEpochSamplesPerSecond: number }>({ task: 'train', ...request, threads });
  return of === 'best' ? res.bestEpochSamplesPerSecond : res.samplesPerSecond;
}
