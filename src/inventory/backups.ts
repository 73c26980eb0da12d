// Backup jobs as data: every dataset of every service instance becomes a job on the
// instance's host (a restic backup on a systemd timer, and a restore when the
// dataset arrives on a host where it has never been), and exactly one host prunes
// the repository. Pure: the roles render what is computed here.
import type { Host } from '../config/schema/host.js';
import type { Service } from '../config/schema/service.js';
import { DEFAULT_BACKUP_RETENTION, retentionArgs, type BackupRetention } from '../config/schema/backup-retention.js';
import { onCalendar } from './backup-schedule.js';
import type { Context } from './context.js';
import { byCodePoint, serviceUnits, serviceUser } from './names.js';
import type { Vars } from './types.js';
import { dataString } from './yaml-emit.js';

export interface BackupJob {
  /** `service/dataset`, as operators name it (`float restore web/data`). */
  id: string;
  /** `<service>_<dataset>`: unique (service names have no `_`); names the systemd units and files. */
  name: string;
  service: string;
  dataset: string;
  type: 'file' | 'pipe';
  path: string | null;
  backup_command: string | null;
  restore_command: string | null;
  owner: string;
  group: string;
  mode: string;
  /** restic tags: float-service=…, float-dataset=…, and float-shard=… for sharded datasets. */
  tags: string[];
  /** Restore the latest snapshot when the dataset first arrives on a host (not for sharded datasets). */
  restore_on_arrival: boolean;
  on_calendar: string[];
  /** The service's units on this host, stopped around a restore on purpose. */
  units: string[];
}

export interface PruneGroup {
  id: string;
  /** The tags selecting the dataset's snapshots (without the shard: forget groups by all tags). */
  tags: string[];
  args: string[];
}

/** The restic tags of a dataset's snapshots. */
export function backupTags(service: string, dataset: string, shard?: string): string[] {
  return [`float-service=${service}`, `float-dataset=${dataset}`, ...(shard !== undefined ? [`float-shard=${shard}`] : [])];
}

/** A mode as Ansible and chmod read it: strings as written, integers as their octal digits. */
export function modeString(mode: string | number | undefined, fallback: string): string {
  if (mode === undefined) return fallback;
  if (typeof mode === 'number') return '0' + mode.toString(8);
  return mode;
}

export const DEFAULT_DATASET_MODE = '0750';

/** Does the dataset run on this instance (on_master_only: the master of a master-elected service only)? */
function runsHere(ctx: Context, s: Service, onMasterOnly: boolean, host: string): boolean {
  if (!onMasterOnly || !s.master_election) return true;
  return ctx.schedule.masters[s.name] === host;
}

export function backupJobs(ctx: Context, h: Host): BackupJob[] {
  const jobs: BackupJob[] = [];
  for (const s of ctx.servicesOnHost.get(h.name) ?? []) {
    const units = serviceUnits(s);
    for (const d of s.datasets) {
      if (!runsHere(ctx, s, d.on_master_only, h.name)) continue;
      const user = serviceUser(s.name);
      const shard = d.sharded ? String(h.shard_id ?? h.name) : undefined;
      jobs.push({
        id: `${s.name}/${d.name}`,
        name: `${s.name}_${d.name}`,
        service: s.name,
        dataset: d.name,
        type: d.path !== undefined ? 'file' : 'pipe',
        path: d.path ?? null,
        backup_command: d.backup_command ?? null,
        restore_command: d.restore_command ?? null,
        owner: d.owner ?? user,
        group: d.group ?? (d.owner !== undefined ? d.owner : user),
        mode: modeString(d.mode, DEFAULT_DATASET_MODE),
        tags: backupTags(s.name, d.name, shard),
        restore_on_arrival: !d.sharded,
        on_calendar: onCalendar(d.schedule, h.name, s.name, d.name),
        units,
      });
    }
  }
  return jobs;
}

/** The retention of a dataset: its own backup_retention, else the global one, else the default. */
export function datasetRetention(ctx: Context, own: BackupRetention | undefined): BackupRetention {
  return own ?? (ctx.model.globals.backup_retention as BackupRetention | undefined) ?? DEFAULT_BACKUP_RETENTION;
}

/** Every dataset that runs somewhere, with its forget arguments. */
export function pruneGroups(ctx: Context): PruneGroup[] {
  const out: PruneGroup[] = [];
  for (const s of [...ctx.model.services].sort((a, b) => byCodePoint(a.name, b.name))) {
    if ((ctx.schedule.assignments[s.name] ?? []).length === 0) continue;
    for (const d of s.datasets) {
      out.push({ id: `${s.name}/${d.name}`, tags: backupTags(s.name, d.name), args: retentionArgs(datasetRetention(ctx, d.backup_retention)) });
    }
  }
  return out;
}

/** Does the host run at least one backup job (the datasets backupJobs keeps, without building the jobs)? */
function hasBackupJobs(ctx: Context, h: Host): boolean {
  return (ctx.servicesOnHost.get(h.name) ?? []).some((s) => s.datasets.some((d) => runsHere(ctx, s, d.on_master_only, h.name)));
}

const pruneHosts = new WeakMap<Context, { host: string | undefined }>();

/**
 * The one host that prunes the repository: the first host (in code-point order)
 * of a service named `backup`, if the configuration has one; else the first
 * host that runs a backup job. One host, so prunes never race. Computed once per
 * context: every host's variables ask for it.
 */
export function pruneHost(ctx: Context): string | undefined {
  let known = pruneHosts.get(ctx);
  if (!known) {
    const named = ctx.schedule.assignments['backup'];
    const candidates = named && named.length > 0 ? named : ctx.model.hosts.filter((h) => hasBackupJobs(ctx, h)).map((h) => h.name);
    pruneHosts.set(ctx, (known = { host: [...candidates].sort(byCodePoint)[0] }));
  }
  return known.host;
}

export interface SftpRepository {
  user: string;
  host: string;
  path: string;
  /** The SSH port (sftp://user@host:PORT//path), when not 22. */
  port?: number;
}

/** `sftp:user@host:/path` (restic's form) or `sftp://user@host//path`; undefined for other backends. */
export function parseSftpUri(uri: string): SftpRepository | undefined {
  const url = /^sftp:\/\/([^@/]+)@([^:/]+)(?::(\d+))?\/(\/.*)$/.exec(uri);
  if (url) return { user: url[1], host: url[2], path: url[4], ...(url[3] && Number(url[3]) !== 22 ? { port: Number(url[3]) } : {}) };
  const m = /^sftp:([^@/:]+)@([^:/]+):(\/.*)$/.exec(uri);
  if (!m) return undefined;
  return { user: m[1], host: m[2], path: m[3] };
}

/**
 * When the repository is sftp on one of float's hosts (`host` or `host.<domain>`),
 * that host gets the account and the directory (float-base-backup), with the
 * backup jobs' SSH key authorized for sftp only.
 */
export function sftpServer(ctx: Context): (SftpRepository & { inventory_host: string }) | undefined {
  const uri = ctx.model.globals.backup_repository_uri;
  if (!uri) return undefined;
  const sftp = parseSftpUri(uri);
  if (!sftp) return undefined;
  const d = ctx.model.globals.domain;
  const h = ctx.model.hosts.find((x) => sftp.host === x.name || sftp.host === `${x.name}.${d}`);
  return h ? { ...sftp, inventory_host: h.name } : undefined;
}

/** Host variables of the backup role. */
export function backupHostVars(ctx: Context, h: Host): Vars {
  const prune = pruneHost(ctx) === h.name ? pruneGroups(ctx) : [];
  // Strings of services.yml stay data: Ansible must not evaluate a `{{` in a command.
  const jobs = backupJobs(ctx, h).map((j) => ({
    ...j,
    path: j.path === null ? null : dataString(j.path),
    backup_command: j.backup_command === null ? null : dataString(j.backup_command),
    restore_command: j.restore_command === null ? null : dataString(j.restore_command),
    owner: dataString(j.owner),
    group: dataString(j.group),
    mode: dataString(j.mode),
  }));
  return {
    float_backup_jobs: jobs,
    float_backup_prune: prune,
  };
}

/** Global variables of the backup role. */
export function backupGlobalVars(ctx: Context): Vars {
  const uri = ctx.model.globals.backup_repository_uri;
  const server = sftpServer(ctx);
  return {
    float_backup_enabled: typeof uri === 'string' && uri.length > 0,
    float_backup_sftp: uri ? (parseSftpUri(uri) ?? null) : null,
    float_backup_sftp_server: server ?? null,
  };
}
