// Atomic file replacement: write a temporary file in the same directory, flush
// it, then rename it over the target. Readers see the old or the new file, never
// a half-written one, and the file has `mode` (a temporary file left over by a
// crash is removed first, so it cannot lend its own mode).
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface WriteOptions {
  mode?: number;
  /** Flush the data to disk before the rename (default true). */
  durable?: boolean;
}

export function writeFileAtomic(path: string, data: string | Buffer, opts: number | WriteOptions = {}): void {
  const { mode = 0o644, durable = true } = typeof opts === 'number' ? { mode: opts } : opts;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, 'wx', mode);
  try {
    try {
      writeFileSync(fd, data);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
