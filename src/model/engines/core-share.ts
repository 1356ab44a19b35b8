// The machine's cores shared out among the training jobs running on it right now. Each job registers
// itself while its step exists (a file named after its process in a directory of the temporary folder,
// which every training process of the machine sees), and its threads are the cores divided by the jobs
// registered: a job alone uses every core, two jobs on two cores one each. A job notices others starting
// or finishing within RECHECK_MS. A process killed without cleaning up is found dead (kill(pid, 0)) and
// its entry removed by the next job that counts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const RECHECK_MS = 100;
const DEFAULT_DIR = path.join(os.tmpdir(), 'bn-service-training-jobs');

export interface CoreShare {
  /** this job's threads now: max(1, floor(cores / jobs)) */
  threads(): number;
  /** ends this job's registration */
  release(): void;
}

let serial = 0;
const registered = new Set<string>();
let exitHook = false;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/** Jobs registered in `dir`, removing those of dead processes. */
function countJobs(dir: string): number {
  let jobs = 0;
  for (const entry of fs.readdirSync(dir)) {
    const pid = Number(entry.split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (pid === process.pid || alive(pid)) jobs++;
    else fs.rmSync(path.join(dir, entry), { force: true });
  }
  return jobs;
}

/**
 * Registers one job. Throws when the directory cannot be used (the caller falls back to a fixed count).
 * The options are for tests.
 */
export function joinCoreShare(options: { dir?: string; cores?: number; recheckMs?: number } = {}): CoreShare {
  const dir = options.dir ?? DEFAULT_DIR;
  const cores = options.cores ?? os.availableParallelism();
  const recheckMs = options.recheckMs ?? RECHECK_MS;
  fs.mkdirSync(dir, { recursive: true });
  const entry = path.join(dir, `${process.pid}-${++serial}`);
  fs.writeFileSync(entry, '');
  registered.add(entry);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const e of registered) fs.rmSync(e, { force: true });
    });
  }
  let checkedAt = -Infinity;
  let threads = 1;
  return {
    threads() {
      const now = performance.now();
      if (now - checkedAt >= recheckMs) {
        checkedAt = now;
        threads = Math.max(1, Math.floor(cores / Math.max(1, countJobs(dir))));
      }
      return threads;
    },
    release() {
      registered.delete(entry);
      fs.rmSync(entry, { force: true });
    },
  };
}
