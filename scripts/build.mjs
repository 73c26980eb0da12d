#!/usr/bin/env node
// Builds the CLI: compiles src/ with tsc (tsconfig.build.json) into dist/ and
// copies src/'s other files (templates) beside the JavaScript. bin/float.mjs runs
// dist/ when it is up to date, so an invocation does not compile TypeScript.
//
// The build is skipped when dist/ is newer than every file and directory under
// src/ and the tsconfig files (isStale below; bin/float.mjs makes the same check).
// A build is written into a fresh directory and swapped in with renames, so a
// failed build leaves the previous dist/ as it was.
// Usage: node scripts/build.mjs [--force]
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(ROOT, 'dist');
/** Written last into a build; its modification time is when the build read the sources. */
export const STAMP = '.build-stamp';
/** What a build reads besides src/. */
const INPUTS = ['tsconfig.json', 'tsconfig.build.json'];

/** The newest modification time under dir: files and directories (a deleted file changes its directory's). */
function newest(dir) {
  let max = statSync(dir).mtimeMs;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    max = Math.max(max, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return max;
}

/** True when dist/ is missing or older than a source. */
export function isStale(root = ROOT) {
  let built;
  try {
    built = statSync(join(root, 'dist', STAMP)).mtimeMs;
  } catch {
    return true;
  }
  // A copy shipped without its sources runs its build as it is.
  if (!existsSync(join(root, 'src'))) return false;
  let src = newest(join(root, 'src'));
  for (const f of INPUTS) if (existsSync(join(root, f))) src = Math.max(src, statSync(join(root, f)).mtimeMs);
  return src > built;
}

function copyAssets(from, to) {
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const p = join(from, e.name);
    if (e.isDirectory()) copyAssets(p, join(to, e.name));
    else if (!e.name.endsWith('.ts')) {
      mkdirSync(to, { recursive: true });
      cpSync(p, join(to, e.name));
    }
  }
}

/** Builds dist/ when it is stale (or always with force). Returns true when it built. Throws when tsc fails. */
export function build({ force = false, log = (m) => process.stderr.write(`build: ${m}\n`) } = {}) {
  if (!force && !isStale()) return false;
  const started = new Date();
  const tmp = join(ROOT, `dist.new-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  log('compiling src/ into dist/');
  const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
  const r = spawnSync(tsc, ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', tmp], { cwd: ROOT, stdio: 'inherit' });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`tsc failed (${r.error ? r.error.message : `exit ${r.status}`}): dist/ is unchanged`);
  }
  copyAssets(join(ROOT, 'src'), tmp);
  writeFileSync(join(tmp, STAMP), `${started.toISOString()}\n`);
  // Sources edited while tsc ran are newer than the stamp: the next check rebuilds.
  utimesSync(join(tmp, STAMP), started, started);
  const old = join(ROOT, `dist.old-${process.pid}`);
  try {
    if (existsSync(DIST)) renameSync(DIST, old);
    renameSync(tmp, DIST);
  } catch (err) {
    // Another build (a second test run in the same checkout) swapped its dist/ in
    // meanwhile: keep it when it is up to date.
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(DIST) && existsSync(old)) renameSync(old, DIST);
    if (isStale()) throw err;
  }
  rmSync(old, { recursive: true, force: true });
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // `npm ci --omit=dev` runs the prepare script without TypeScript: say so, do not fail the install.
  if (process.env.npm_lifecycle_event === 'prepare' && !existsSync(join(ROOT, 'node_modules', '.bin', 'tsc'))) {
    process.stderr.write('build: typescript is not installed (development packages omitted?): dist/ not built\n');
    process.exit(0);
  }
  try {
    if (!build({ force: process.argv.includes('--force') })) process.stderr.write('build: dist/ is up to date\n');
  } catch (err) {
    process.stderr.write(`build: ${err.message}\n`);
    process.exit(1);
  }
}
