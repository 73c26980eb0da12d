// float backups [--json] and float restore SERVICE/DATASET: the datasets, their hosts
// and their latest snapshots, and a restore on purpose. The repository is read on a
// host (over SSH, with Ansible and the compiled inventory), with the agent that the
// float-base-backup role installs there: the restic password never leaves the hosts.
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { ansibleEnv } from '../ansible/command.js';
import { FloatUserError, formatDiagnostic } from '../config/diagnostics.js';
import { FLOAT_ROOT } from '../config/load.js';
import { columns } from '../core/columns.js';
import { makeContext } from '../inventory/context.js';
import { backupJobs } from '../inventory/backups.js';
import { byCodePoint } from '../inventory/names.js';
import { withConfigLock } from '../lock.js';
import type { Plan } from '../plan.js';
import { prepare } from '../prepare.js';
import type { SetExitCode } from './commands.js';
import { configOption } from './options.js';

export interface DatasetRow {
  id: string;
  service: string;
  dataset: string;
  type: 'file' | 'pipe';
  path: string | null;
  sharded: boolean;
  hosts: string[];
  on_calendar: Record<string, string[]>;
  latest: SnapshotRow | null;
}

export interface SnapshotRow {
  id: string;
  short_id: string;
  time: string;
  host: string;
  service: string;
  dataset: string;
  shard: string | null;
}

/** Every dataset and the hosts whose jobs back it up, with each host's timer (pure). */
export function datasetRows(p: Plan): DatasetRow[] {
  const ctx = makeContext(p.model, p.schedule);
  /** dataset id -> host -> the OnCalendar lines of its job there (hosts in model order). */
  const timers = new Map<string, Map<string, string[]>>();
  for (const h of p.model.hosts) {
    for (const j of backupJobs(ctx, h)) (timers.get(j.id) ?? timers.set(j.id, new Map()).get(j.id)!).set(h.name, j.on_calendar);
  }
  const rows: DatasetRow[] = [];
  for (const s of p.model.services) {
    for (const d of s.datasets) {
      const id = `${s.name}/${d.name}`;
      const onHosts = timers.get(id) ?? new Map<string, string[]>();
      rows.push({
        id,
        service: s.name,
        dataset: d.name,
        type: d.path !== undefined ? 'file' : 'pipe',
        path: d.path ?? null,
        sharded: d.sharded,
        hosts: [...onHosts.keys()],
        on_calendar: Object.fromEntries(onHosts),
        latest: null,
      });
    }
  }
  rows.sort((a, b) => byCodePoint(a.id, b.id));
  return rows;
}

/** Runs the backup agent on one host through Ansible (ad hoc), returning its standard output. */
export function onHost(prepared: Awaited<ReturnType<typeof prepare>>, configPath: string, host: string, argv: string[]): string {
  const configDir = dirname(resolve(configPath));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...ansibleEnv({ floatRoot: FLOAT_ROOT, configDir, vaultPasswordFile: prepared.vaultPasswordFile, rolesPaths: prepared.rolesPaths }),
    ANSIBLE_LOAD_CALLBACK_PLUGINS: '1',
    ANSIBLE_STDOUT_CALLBACK: 'json',
  };
  const args = ['-i', prepared.inventoryDir, host, '-m', 'ansible.builtin.command', '-a', JSON.stringify({ argv: ['/usr/local/sbin/float-backup', ...argv] })];
  const r = spawnSync('ansible', args, { cwd: configDir, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new FloatUserError(`could not run ansible: ${r.error.message}`, 'F2041');
  let result: { stdout?: string; stderr?: string; msg?: string; rc?: number; unreachable?: boolean } | undefined;
  try {
    result = JSON.parse(r.stdout).plays[0].tasks[0].hosts[host];
  } catch {
    throw new FloatUserError(`ansible on ${host} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().slice(-2000)}`, 'F2127');
  }
  if (!result || r.status !== 0) {
    const why = (result?.stderr || result?.msg || r.stderr || '').trim().slice(-2000);
    throw new FloatUserError(`float-backup ${argv[0]} on ${host} failed: ${why}`, 'F2127');
  }
  return result.stdout ?? '';
}

function table(rows: DatasetRow[]): string {
  const head = ['DATASET', 'TYPE', 'HOSTS', 'LATEST SNAPSHOT', 'TIME'];
  const body = rows.map((r) => [r.id + (r.sharded ? ' (sharded)' : ''), r.type, r.hosts.join(',') || '-', r.latest?.short_id ?? '-', r.latest?.time.slice(0, 19) ?? '-']);
  return columns([head, ...body]);
}

export function register(program: Command, _setExitCode: SetExitCode): void {
  registerBackups(program);
}

function registerBackups(program: Command): void {
  program
    .command('backups')
    .description("list the datasets, the hosts backing them up and each one's latest snapshot (read on a host, over SSH)")
    .addOption(configOption())
    .option('--json', 'print a JSON array of {id, service, dataset, type, path, sharded, hosts, on_calendar, latest}')
    .option('--host <host>', 'read the repository from this host (default: the first host with a backup job)')
    .option('--offline', 'do not read the repository: datasets and hosts only')
    .action(async (opts: { config: string; json?: boolean; host?: string; offline?: boolean }) => {
      await withConfigLock(opts.config, { command: 'float backups' }, async () => {
        const prepared = await prepare(opts.config);
        for (const d of prepared.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
        const rows = datasetRows(prepared.plan);
        const host = opts.host ?? [...new Set(rows.flatMap((r) => r.hosts))].sort(byCodePoint)[0];
        if (opts.host && !prepared.plan.model.hosts.some((h) => h.name === opts.host)) throw new FloatUserError(`--host ${opts.host}: no such host`, 'F2040');
        if (!opts.offline && prepared.plan.model.globals.backup_repository_uri && host) {
          const snaps = JSON.parse(onHost(prepared, opts.config, host, ['snapshots', '--json'])) as SnapshotRow[];
          for (const r of rows) {
            const mine = snaps.filter((s) => s.service === r.service && s.dataset === r.dataset);
            r.latest = mine.length ? mine.reduce((a, b) => (a.time > b.time ? a : b)) : null;
          }
        } else if (!opts.offline) {
          process.stderr.write('no backup repository (backup_repository_uri) or no host with a backup job: snapshots not read\n');
        }
        process.stdout.write(opts.json ? JSON.stringify(rows, null, 2) + '\n' : table(rows));
      });
    });
}

