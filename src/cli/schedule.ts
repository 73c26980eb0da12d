// float schedule: print the schedule, or what a change would move (--diff REV).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { FloatUserError, formatDiagnostic } from '../config/diagnostics.js';
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

/** Extracts the repository at `rev` into a temporary directory (git archive: no checkout). */
function exportRevision(configPath: string, rev: string): { dir: string; config: string } {
  const cwd = dirname(resolve(configPath));
  const git = (args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  let top: string;
  try {
    top = git(['rev-parse', '--show-toplevel']);
    git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  } catch {
    throw new FloatUserError(`--diff ${rev}: ${cwd} is not a git repository or '${rev}' is not a revision in it`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'float-rev-'));
  execFileSync('sh', ['-c', `git archive --format=tar "$1" | tar -x -C "$2"`, 'sh', rev, dir], { cwd: top });
  return { dir, config: join(dir, resolve(configPath).slice(top.length + 1)) };
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
        const { dir, config } = exportRevision(opts.config, opts.diff);
        try {
          before = plan(config, { scheduler: mode }).schedule;
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
        label = opts.diff;
      } else if (opts.diffScheduler) {
        before = current.schedule;
        const other = plan(opts.config, { scheduler: parseMode(opts.diffScheduler) }).schedule;
        const d = diffSchedules(before, other);
        process.stdout.write(formatDiff(d, `scheduler ${current.model.config.scheduler}`, `scheduler ${opts.diffScheduler}`, opts.json));
        setExitCode(d.moved > 0 ? 1 : 0);
        return;
      }
      if (before) {
        const d = diffSchedules(before, current.schedule);
        process.stdout.write(formatDiff(d, label, 'working tree', opts.json));
        setExitCode(d.moved > 0 ? 1 : 0);
        return;
      }
      process.stdout.write(opts.json ? scheduleJson(current.schedule) + '\n' : scheduleTable(current.schedule));
    });
}

function parseMode(m: string | undefined): SchedulerMode | undefined {
  if (m === undefined) return undefined;
  if (m !== 'stable' && m !== 'float-compat') throw new FloatUserError(`unknown scheduler '${m}': use stable or float-compat`);
  return m;
}
