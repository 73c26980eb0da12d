// Every git command float runs on the configuration repository: the state of the
// working tree (which commit `float run` applies, and whether it has uncommitted
// changes) and a tree at a revision (`float schedule --diff`). A revision typed
// by the operator is checked before git sees it, and never reaches it where an
// option could go; COMMIT_ID is the shape rollback protection requires of a
// commit id (the float-util-config-commit role checks the one read back from a
// host the same way before git sees it).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { FloatUserError } from '../config/diagnostics.js';

export interface GitState {
  commit: string;
  dirty: boolean;
}

/** The state of a work tree, or why there is none: not a repository, or git failed or refused it. */
export type GitStateResult = { ok: true; state: GitState } | { ok: false; notARepository: boolean; reason: string };

/** A full commit id: 40 lowercase hexadecimal digits (SHA-1 repositories). */
const COMMIT_ID = /^[0-9a-f]{40}$/;

function isCommitId(s: unknown): s is string {
  return typeof s === 'string' && COMMIT_ID.test(s);
}

interface GitError extends Error {
  code?: string;
  status?: number | null;
  stderr?: Buffer | string;
}

/** Runs git in dir; throws GitError (with git's stderr) on failure. */
function git(dir: string, args: string[], opts: { maxBuffer?: number } = {}): Buffer {
  return execFileSync('git', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: opts.maxBuffer ?? 64 * 1024 * 1024 });
}

/** git's own words for a failure (its first error line), or how it could not run. */
function why(err: unknown): string {
  const e = err as GitError;
  if (e.code === 'ENOENT') return 'git is not installed';
  const text = (e.stderr ?? '').toString().trim();
  const line = text.split('\n').find((l) => /^(fatal|error):/.test(l)) ?? text.split('\n')[0];
  return line || e.message;
}

/**
 * Which commit the work tree at dir is at, and whether it has uncommitted changes
 * to tracked files. When there is none, says why: "not a git repository" is one
 * answer, git refusing the repository (e.g. "detected dubious ownership" when
 * another user owns it) or failing is another, which callers must not treat as
 * the first.
 */
export function gitState(dir: string): GitStateResult {
  let inside: string;
  try {
    inside = git(dir, ['rev-parse', '--is-inside-work-tree']).toString('utf8').trim();
  } catch (err) {
    const reason = why(err);
    return { ok: false, notARepository: /not a git repository/i.test(reason), reason };
  }
  if (inside !== 'true') return { ok: false, notARepository: true, reason: `${dir} is not inside a git work tree` };
  try {
    const commit = git(dir, ['rev-parse', '--verify', 'HEAD^{commit}']).toString('utf8').trim();
    if (!isCommitId(commit)) return { ok: false, notARepository: false, reason: `git rev-parse HEAD printed ${JSON.stringify(commit)}, not a commit id` };
    const dirty = git(dir, ['status', '--porcelain', '--untracked-files=no']).toString('utf8') !== '';
    return { ok: true, state: { commit, dirty } };
  } catch (err) {
    return { ok: false, notARepository: false, reason: why(err) };
  }
}

/** Blobs per `git show` call: keeps the argument list well under any OS limit. */
const SHOW_BATCH = 200;

/**
 * Writes the repository's tree at `rev` into a temporary directory, reading every
 * file with `git show REV:PATH` (no checkout: the working tree and index are not
 * touched, and unlike `git archive` no export-ignore/export-subst attribute can
 * drop or rewrite a file). Returns the directory and the config file's path in it.
 */
export function exportRevision(configPath: string, rev: string): { dir: string; config: string } {
  const absConfig = resolve(configPath);
  const cwd = dirname(absConfig);
  if (rev.startsWith('-') || rev === '') throw new FloatUserError(`--diff ${JSON.stringify(rev)}: not a revision`, 'F2040');
  let top: string;
  let commit: string;
  try {
    top = git(cwd, ['rev-parse', '--show-toplevel']).toString('utf8').trim();
    commit = git(cwd, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]).toString('utf8').trim();
  } catch {
    throw new FloatUserError(`--diff ${rev}: ${cwd} is not a git repository or '${rev}' is not a revision in it`, 'F2044');
  }
  if (!isCommitId(commit)) throw new FloatUserError(`--diff ${rev}: git resolved it to ${JSON.stringify(commit)}, not a commit id`, 'F2044');
  // The config's path inside the repository (through symlinks such as /tmp -> /private/tmp).
  const inRepo = relative(realpathSync(top), join(realpathSync(cwd), basename(absConfig))).split(sep).join('/');
  // mode SP type SP object SP size TAB path NUL, for every file of the tree.
  const entries = git(cwd, ['ls-tree', '-r', '-l', '-z', '--full-tree', commit])
    .toString('utf8')
    .split('\0')
    .filter((e) => e !== '')
    .map((e) => {
      const tab = e.indexOf('\t');
      const [mode, type, , size] = e.slice(0, tab).split(/ +/);
      return { mode, type, size: Number(size), path: e.slice(tab + 1) };
    })
    .filter((e) => e.type === 'blob');
  const dir = mkdtempSync(join(tmpdir(), 'float-rev-'));
  try {
    for (let i = 0; i < entries.length; i += SHOW_BATCH) {
      const batch = entries.slice(i, i + SHOW_BATCH);
      const total = batch.reduce((n, e) => n + e.size, 0);
      // git show prints the blobs one after the other, as stored; the sizes split them.
      const out = git(cwd, ['show', '--no-textconv', ...batch.map((e) => `${commit}:${e.path}`)], { maxBuffer: total + 1024 * 1024 });
      let offset = 0;
      for (const e of batch) {
        const data = out.subarray(offset, offset + e.size);
        offset += e.size;
        const dest = join(dir, ...e.path.split('/'));
        mkdirSync(dirname(dest), { recursive: true });
        if (e.mode === '120000') symlinkSync(data.toString('utf8'), dest);
        else writeFileSync(dest, data);
      }
      if (offset !== out.length) throw new Error(`git show ${rev}: expected ${offset} bytes, got ${out.length}`);
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { dir, config: join(dir, ...inRepo.split('/')) };
}
