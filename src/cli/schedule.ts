// float schedule: print the schedule, or what a change would move (--diff REV).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { FloatUserError, formatDiagnostic, type Diagnostic } from '../config/diagnostics.js';
import { plan } from '../plan.js';
import { diffSchedules, formatDiff } from '../scheduler/diff.js';
import type { SchedulerMode } from '../scheduler/index.js';
import type { ScheduleResult } from '../scheduler/types.js';
import type { SetExitCode } from './commands.js';
import { configOption } from './options.js';

export function scheduleJson(r: ScheduleResult): string {
  const assignments: Record<string, string[]> = {};
  for (const k of Object.keys(r.assignments).sort()) assignments[k] = [...r.assignments[k]].sort();
  const masters: Record<string, string> = {};
  for (const k of Object.keys(r.masters).sort()) masters[k] = r.masters[k];
  return JSON.stringify({ assignments, masters });
}

export function scheduleTable(r: ScheduleResult): string {
  const rows = Object.keys(r.assignments)
    .sort()
    .map((s) => [s, r.assignments[s].join(', ') || '-', r.masters[s] ?? '']);
  const head = ['SERVICE', 'HOSTS', 'MASTER'];
  const w0 = Math.max(head[0].length, ...rows.map((x) => x[0].length));
  const w1 = Math.max(head[1].length, ...rows.map((x) => x[1].length));
  return [head, ...rows].map((x) => `${x[0].padEnd(w0)}  ${x[1].padEnd(w1)}  ${x[2]}`.trimEnd()).join('\n') + '\n';
}

/** Blobs per `git show` call: keeps the argument list well under any OS limit. */
const SHOW_BATCH = 200;

/**
 * Writes the repository's tree at `rev` into a temporary directory, reading every
 * file with `git show REV:PATH` (no checkout: the working tree and index are not
 * touched, and unlike `git archive` no export-ignore/export-subst attribute can
 * drop or rewrite a file). Returns the directory and the config file's path in it.
 */
function exportRevision(configPath: string, rev: string): { dir: string; config: string } {
  const absConfig = resolve(configPath);
  const cwd = dirname(absConfig);
  const git = (args: string[], opts: { maxBuffer?: number } = {}): Buffer =>
    execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: opts.maxBuffer ?? 64 * 1024 * 1024 });
  let top: string;
  try {
    top = git(['rev-parse', '--show-toplevel']).toString('utf8').trim();
    git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  } catch {
    throw new FloatUserError(`--diff ${rev}: ${cwd} is not a git repository or '${rev}' is not a revision in it`, 'F2044');
  }
  // The config's path inside the repository (through symlinks such as /tmp -> /private/tmp).
  const inRepo = relative(realpathSync(top), join(realpathSync(cwd), basename(absConfig))).split(sep).join('/');
  // mode SP type SP object SP size TAB path NUL, for every file of the tree.
  const entries = git(['ls-tree', '-r', '-l', '-z', '--full-tree', rev])
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
      const out = git(['show', '--no-textconv', ...batch.map((e) => `${rev}:${e.path}`)], { maxBuffer: total + 1024 * 1024 });
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

/** Schedules the configuration as it is at `rev`, with positions shown as REV:PATH. */
function scheduleAtRevision(configPath: string, rev: string, mode: SchedulerMode | undefined): ScheduleResult {
  const { dir, config } = exportRevision(configPath, rev);
  const bases = [dir, realpathSync(dir)];
  const rename = (d: Diagnostic): Diagnostic => {
    if (!d.pos) return d;
    const abs = resolve(d.pos.file);
    const base = bases.find((b) => abs.startsWith(b + sep));
    return base ? { ...d, pos: { ...d.pos, file: `${rev}:${relative(base, abs).split(sep).join('/')}` } } : d;
  };
  try {
    return plan(config, { scheduler: mode }).schedule;
  } catch (err) {
    if (err instanceof FloatUserError) throw new FloatUserError(err.diagnostics.map(rename));
    throw err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function register(program: Command, setExitCode: SetExitCode): void {
  program
    .command('schedule')
    .description('print which hosts run each service, or with --diff REV what would move compared to git revision REV')
    .addOption(configOption())
    .option('--json', 'print {"assignments": {...}, "masters": {...}} as JSON')
    .option('--diff <rev>', 'compare with the configuration at git revision REV; exit 1 when instances move')
    .option('--scheduler <mode>', 'override config.yml: stable or float-compat')
    .option('--diff-scheduler <mode>', 'compare the working tree under two schedulers: the configured one and MODE')
    .action((opts: { config: string; json?: boolean; diff?: string; scheduler?: string; diffScheduler?: string }) => {
      const mode = parseMode(opts.scheduler);
      const current = plan(opts.config, { scheduler: mode });
      for (const d of current.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      let before: ScheduleResult | undefined;
      let label = '';
      if (opts.diff) {
        before = scheduleAtRevision(opts.config, opts.diff, mode);
        label = opts.diff;
      } else if (opts.diffScheduler) {
        before = current.schedule;
        const other = plan(opts.config, { scheduler: parseMode(opts.diffScheduler) }).schedule;
        const d = diffSchedules(before, other);
        process.stdout.write(formatDiff(d, `scheduler ${mode ?? current.model.config.scheduler}`, `scheduler ${opts.diffScheduler}`, opts.json));
        setExitCode(d.services.length > 0 ? 1 : 0);
        return;
      }
      if (before) {
        const d = diffSchedules(before, current.schedule);
        process.stdout.write(formatDiff(d, label, 'working tree', opts.json));
        // Any change a reviewer should see (an instance added or removed, a master moved) fails the check.
        setExitCode(d.services.length > 0 ? 1 : 0);
        return;
      }
      process.stdout.write(opts.json ? scheduleJson(current.schedule) + '\n' : scheduleTable(current.schedule));
    });
}

function parseMode(m: string | undefined): SchedulerMode | undefined {
  if (m === undefined) return undefined;
  if (m !== 'stable' && m !== 'float-compat') throw new FloatUserError(`unknown scheduler '${m}': use stable or float-compat`, 'F2040');
  return m;
}
