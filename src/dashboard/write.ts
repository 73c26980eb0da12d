// Writes the rendered site to a directory of its own (`float dashboard --out DIR`):
// a fresh sibling directory renamed into place, so DIR is always a complete site.
// An existing DIR is replaced only when it is empty or a site this wrote (it holds
// the marker file); anything else is refused.
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FloatUserError } from '../config/diagnostics.js';
import { within } from '../config/safe-path.js';

export const MARKER = '.float-dashboard';

export function writeSite(files: Map<string, string>, outDir: string): number {
  let replace = false;
  if (existsSync(outDir)) {
    const st = lstatSync(outDir);
    const entries = st.isDirectory() ? readdirSync(outDir) : null;
    if (!entries || (entries.length > 0 && !entries.includes(MARKER))) {
      throw new FloatUserError(`${outDir} exists and is not a dashboard written by float dashboard; choose another --out`, 'F2150');
    }
    replace = true;
  }
  const parent = dirname(outDir);
  mkdirSync(parent, { recursive: true });
  const nonce = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const staging = join(parent, `.${basename(outDir)}.new-${nonce}`);
  const old = join(parent, `.${basename(outDir)}.old-${nonce}`);
  try {
    mkdirSync(staging);
    writeFileSync(join(staging, MARKER), 'Written by float dashboard: this directory is replaced as a whole.\n');
    for (const [rel, text] of files) {
      const p = within(staging, rel, 'dashboard file');
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text);
    }
    if (replace) renameSync(outDir, old);
    renameSync(staging, outDir);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    if (replace && !existsSync(outDir) && existsSync(old)) renameSync(old, outDir);
    const code = (err as NodeJS.ErrnoException).code;
    if (code && /^E[A-Z]+$/.test(code)) throw new FloatUserError(`cannot write the dashboard to ${outDir}: ${(err as Error).message}`, 'F2150');
    throw err;
  }
  rmSync(old, { recursive: true, force: true });
  return files.size;
}
