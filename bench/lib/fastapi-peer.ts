// The FastAPI + uvicorn + PyTorch peer (bench/torch/fastapi_peer.py) in a child process, serving one
// checkpoint document of the service. Never installs anything: without a python3 that imports torch,
// fastapi and uvicorn, findPeerPython says what to install and the bench leaves the peer's rows empty.
import { spawn, spawnSync } from 'node:child_process';
import { findPython } from './torch.js';
import { freePort, waitFor } from './service.js';

export const PEER_MODULES = ['torch', 'fastapi', 'uvicorn'];

export interface PeerPython {
  python: string;
  /** "FastAPI 0.92.0, uvicorn 0.17.6, PyTorch 1.13.0" */
  versions: string;
}

export function findPeerPython(): PeerPython | { missing: string } {
  const found = findPython(PEER_MODULES);
  if (!found) {
    return { missing: 'no python3 imports torch, fastapi and uvicorn (Debian: apt-get install python3-torch python3-fastapi python3-uvicorn libopenblas0-pthread)' };
  }
  const probe = spawnSync(found.python, ['-c', 'import fastapi, uvicorn, torch; print(fastapi.__version__, uvicorn.__version__, torch.__version__)'], { encoding: 'utf8' });
  const [fastapi, uvicorn, torch] = probe.stdout.trim().split(' ');
  return { python: found.python, versions: `FastAPI ${fastapi}, uvicorn ${uvicorn}, PyTorch ${torch}` };
}

export interface Peer {
  /** POST {x} here */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** `tuned`: async route, no access log (see bench/torch/fastapi_peer.py); else as `uvicorn app:app` runs it. */
export async function startPeer(python: string, checkpointUrl: string, tuned: boolean): Promise<Peer> {
  const port = await freePort();
  const args = ['bench/torch/fastapi_peer.py', '--checkpoint-url', checkpointUrl, '--port', String(port), ...(tuned ? ['--tuned'] : [])];
  // stdout carries uvicorn's access log (to nowhere, as without a collector); stderr is shown if it fails.
  const child = spawn(python, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  };
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor('the FastAPI peer', async () => {
      if (child.exitCode !== null) throw Object.assign(new Error(`the FastAPI peer exited with ${child.exitCode}: ${stderr}`), { fatal: true });
      return (await fetch(`${base}/health`)).ok ? true : undefined;
    }, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `${base}/predict`, pid: child.pid as number, stop };
}
