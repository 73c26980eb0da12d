// float schedule: print the schedule, or what a change would move (--diff REV).
import { realpathSync, rmSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { FloatUserError, formatDiagnostic, type Diagnostic } from '../config/diagnostics.js';
import { exportRevision } from '../core/git.js';
import { plan } from '../plan.js';
import { diffSchedules, formatDiff } from '../scheduler/diff.js';
import type { SchedulerMode } from '../scheduler/index.js';
import type { ScheduleResult } from '../scheduler/types.js';
import type { SetExitCode } from './commands.js';
import { configOption } from './options.js';

function scheduleJson(r: ScheduleResult): string {
  const assignments: Record<string, string[]> = {};
  for (const k of Object.keys(r.assignments).sort()) assignments[k] = [...r.assignments[k]].sort();
  const masters: Record<string, string> = {};
  for (const k of Object.keys(r.masters).sort()) masters[k] = r.masters[k];
  return JSON.stringify({ assignments, masters });
}

function scheduleTable(r: ScheduleResult): string {
  const rows = Object.keys(r.assignments)
    .sort()
    .map((s) => [s, r.assignments[s].join(', ') || '-', r.masters[s] ?? '']);
  const head = ['SERVICE', 'HOSTS', 'MASTER'];
  const w0 = Math.max(head[0].length, ...rows.map((x) => x[0].length));
  const w1 = Math.max(head[1].length, ...rows.map((x) => x[1].length));
  return [head, ...rows].map((x) => `${x[0].padEnd(w0)}  ${x[1].padEnd(w1)}  ${x[2]}`.trimEnd()).join('\n') + '\n';
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
