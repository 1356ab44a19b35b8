// Picks the TF.js backend once per process. The native packages are optional (they cannot be installed
// on machines without internet), so they are only ever loaded through a dynamic import in a try/catch.
import * as tf from '@tensorflow/tfjs';

export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  backend: string;
  requested: BackendPreference;
  tried: { name: string; error?: string }[];
}

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

let pending: Promise<BackendInfo> | null = null;

/** Initialises the backend; later calls return the first call's result, whatever they ask for. */
export function initBackend(pref: BackendPreference = 'auto'): Promise<BackendInfo> {
  if (!pending) {
    pending = select(pref).catch((err: unknown) => {
      pending = null; // a failed attempt may be retried with another preference
      throw err;
    });
  }
  return pending;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

async function tryNative(tried: BackendInfo['tried']): Promise<boolean> {
  for (const pkg of NATIVE_PACKAGES) {
    try {
      // A variable specifier keeps tsc and bundlers from resolving the optional package.
      const specifier: string = pkg;
      await import(specifier);
      if (!(await tf.setBackend('tensorflow'))) throw new Error('backend "tensorflow" failed to initialise');
      await tf.ready();
      tried.push({ name: pkg });
      return true;
    } catch (err) {
      tried.push({ name: pkg, error: message(err) });
    }
  }
  return false;
}

// Node needs no wasm settings: it passes tfjs's SIMD check and loads tfjs-backend-wasm-simd.wasm from
// the package (forcing the plain binary made the training matMuls ~3.5x slower), so no setWasmPaths.
// The threaded binary is never used under Node (tfjs hard-wires WASM_HAS_MULTITHREAD_SUPPORT to false
// there, and its workers start from Blob URLs that worker_threads cannot load), so setThreadsCount does
// nothing; a worker gets its parallelism from running several jobs.
async function trySimple(name: 'wasm' | 'cpu', tried: BackendInfo['tried']): Promise<boolean> {
  try {
    if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend(name))) throw new Error(`backend "${name}" failed to initialise`);
    await tf.ready();
    tried.push({ name });
    return true;
  } catch (err) {
    tried.push({ name, error: message(err) });
    return false;
  }
}

async function select(pref: BackendPreference): Promise<BackendInfo> {
  const tried: BackendInfo['tried'] = [];
  const done = (): BackendInfo => ({ backend: tf.getBackend(), requested: pref, tried });
  if (pref === 'tensorflow') {
    if (await tryNative(tried)) return done();
    throw new Error(
      `TFJS_BACKEND=tensorflow but neither ${NATIVE_PACKAGES.join(' nor ')} could be loaded: ` +
        tried.map((t) => `${t.name}: ${t.error}`).join('; '),
    );
  }
  if (pref === 'wasm') {
    if (await trySimple('wasm', tried)) return done();
    throw new Error(`TFJS_BACKEND=wasm but the wasm backend failed: ${tried[0]?.error}`);
  }
  if (pref === 'auto' && (await tryNative(tried))) return done();
  if (pref === 'auto' && (await trySimple('wasm', tried))) return done();
  if (await trySimple('cpu', tried)) return done();
  throw new Error(`no TF.js backend could be initialised: ${tried.map((t) => `${t.name}: ${t.error}`).join('; ')}`);
}
