// Atomic file primitives: a file is written under a temporary name in its final directory, fsynced,
// renamed into place, and the directory fsynced, so a crash leaves the old file or the new one, never
// a part. The synchronous twins serve the training child, whose event loop serves nothing else: there
// each asynchronous file operation would be a thread-pool round trip for no gain. Every other process
// (the API above all) uses the asynchronous ones and never blocks on fsync.
import { randomBytes } from 'node:crypto';
import fsSync from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** Prefix of every temporary name: readers skip such entries, sweepers remove stale ones. */
export const TMP_PREFIX = '.tmp-';

/** Unique among processes and calls: the pid and 48 random bits. */
export function uniqueSuffix(): string {
  return `${process.pid}-${randomBytes(6).toString('hex')}`;
}

export function isErrno(err: unknown, ...codes: string[]): boolean {
  return err instanceof Error && codes.includes((err as NodeJS.ErrnoException).code ?? '');
}

/** Errors of platforms that cannot open or fsync a directory; the rename still happened. */
const DIR_SYNC_UNSUPPORTED = ['EISDIR', 'EPERM', 'EINVAL', 'EBADF', 'EACCES'];

/** Makes a rename (or a new entry) in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch (err) {
    if (!isErrno(err, ...DIR_SYNC_UNSUPPORTED)) throw err;
  } finally {
    await handle?.close();
  }
}

export type FileContent = string | Uint8Array | Iterable<string>;

/** Writes and fsyncs a new file (it must not exist); the caller renames it into place. */
export async function writeNewFile(file: string, content: FileContent): Promise<void> {
  const handle = await fs.open(file, 'wx', 0o644);
  try {
    if (typeof content === 'string' || content instanceof Uint8Array) {
      await handle.writeFile(content);
    } else {
      for (const chunk of content) {
        const bytes = Buffer.from(chunk, 'utf8');
        for (let offset = 0; offset < bytes.length; ) {
          offset += (await handle.write(bytes, offset, bytes.length - offset)).bytesWritten;
        }
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces `file` atomically with `content`. */
export async function writeFileAtomic(file: string, content: FileContent): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `${TMP_PREFIX}${uniqueSuffix()}`);
  try {
    await writeNewFile(tmp, content);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

/** A read handle on `file`, or null when it does not exist. */
export async function openIfExists(file: string): Promise<FileHandle | null> {
  try {
    return await fs.open(file, 'r');
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return null;
    throw err;
  }
}

/** The parsed JSON of `file`, or null when it does not exist. */
export async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return null;
    throw err;
  }
}

export function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fsSync.openSync(dir, 'r');
    fsSync.fsyncSync(fd);
  } catch (err) {
    if (!isErrno(err, ...DIR_SYNC_UNSUPPORTED)) throw err;
  } finally {
    if (fd !== undefined) fsSync.closeSync(fd);
  }
}

/** A string, bytes, or byte chunks written one after another (large tensors are never concatenated). */
export type FileContentSync = string | Uint8Array | readonly Uint8Array[];

export function writeNewFileSync(file: string, content: FileContentSync): void {
  const fd = fsSync.openSync(file, 'wx', 0o644);
  try {
    if (typeof content === 'string' || content instanceof Uint8Array) {
      fsSync.writeFileSync(fd, content);
    } else {
      for (const chunk of content) {
        for (let offset = 0; offset < chunk.byteLength; ) offset += fsSync.writeSync(fd, chunk, offset);
      }
    }
    fsSync.fsyncSync(fd);
  } finally {
    fsSync.closeSync(fd);
  }
}

/** Replaces `file` atomically with `content`, synchronously (the training child's twin of writeFileAtomic). */
export function writeFileAtomicSync(file: string, content: FileContentSync): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `${TMP_PREFIX}${uniqueSuffix()}`);
  try {
    writeNewFileSync(tmp, content);
    fsSync.renameSync(tmp, file);
  } catch (err) {
    fsSync.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirSync(dir);
}

/** Appends one line (or more) to `file` and fsyncs it: an append-only log that survives a crash. */
export function appendDurableSync(file: string, text: string): void {
  const created = !fsSync.existsSync(file);
  const fd = fsSync.openSync(file, 'a', 0o644);
  try {
    fsSync.writeSync(fd, text);
    fsSync.fsyncSync(fd);
  } finally {
    fsSync.closeSync(fd);
  }
  // A new file's directory entry is durable only once the directory is synced.
  if (created) fsyncDirSync(path.dirname(file));
}
