// A per-model lock shared by processes (the API sets aliases, the training child prunes checkpoints):
// a file created exclusively (O_EXCL) in the model directory, removed on release. It guards sections
// of a few file operations, so a lock older than STALE_MS belongs to a process that died holding it
// and is broken. Over NFS, O_EXCL creation is atomic since NFSv3.
import { randomBytes } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import { isErrno } from '../util/atomic-file.js';

export const STALE_MS = 30_000;

function owner(): string {
  return JSON.stringify({ pid: process.pid, host: os.hostname(), at: new Date().toISOString(), id: randomBytes(4).toString('hex') });
}

/** Removes the lock when it is older than STALE_MS; true when it did. */
function breakIfStaleSync(file: string): boolean {
  const stats = fsSync.statSync(file, { throwIfNoEntry: false });
  if (!stats || Date.now() - stats.mtimeMs <= STALE_MS) return false;
  fsSync.rmSync(file, { force: true });
  return true;
}

/** Takes the lock now or returns null (never waits: the training child defers its work instead). */
export function tryLockSync(file: string): (() => void) | null {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fsSync.writeFileSync(file, owner(), { flag: 'wx' });
      return () => fsSync.rmSync(file, { force: true });
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
      if (!breakIfStaleSync(file)) return null;
    }
  }
  return null;
}

/** Takes the lock, waiting at most `timeoutMs`; null when it stayed taken. */
export async function lock(file: string, timeoutMs: number): Promise<(() => Promise<void>) | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fs.writeFile(file, owner(), { flag: 'wx' });
      return () => fs.rm(file, { force: true });
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
    }
    if (breakIfStaleSync(file)) continue;
    if (Date.now() >= deadline) return null;
    await new Promise((r) => setTimeout(r, 10));
  }
}
