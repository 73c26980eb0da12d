// Load-time checks of datasets and the backup repository (F2120-F2126): what the
// backup role and the restore-on-arrival step would otherwise refuse on the hosts.
import { scheduleProblem } from '../inventory/backup-schedule.js';
import type { Diagnostic } from './diagnostics.js';
import type { Model } from './load.js';
import { svcPos } from './positions.js';
import { locate } from './source.js';

/** A UNIX user or group name, as Debian's adduser accepts it. */
const UNIX_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const MODE = /^0?[0-7]{3,4}$/;

export function checkBackups(model: Model): Diagnostic[] {
  const out: Diagnostic[] = [];
  const err = (code: Diagnostic['code'], message: string, pos: Diagnostic['pos'], subject: string, severity: Diagnostic['severity'] = 'error') =>
    out.push({ code, severity, message, pos, subject });
  for (const s of model.services) {
    const seen = new Set<string>();
    const paths = new Map<string, string>();
    s.datasets.forEach((d, i) => {
      const pos = (k?: string) => svcPos(model, s.name, k ? ['datasets', i, k] : ['datasets', i]);
      const what = `dataset '${d.name}' of service '${s.name}'`;
      if (seen.has(d.name)) err('F2124', `${what} is named twice in the service; dataset names must be unique within a service`, pos('name'), d.name);
      seen.add(d.name);
      if (d.path !== undefined) {
        const other = paths.get(d.path);
        if (other !== undefined) err('F2124', `${what} has the path of dataset '${other}' (${d.path}); each dataset needs its own directory`, pos('path'), d.name);
        paths.set(d.path, d.name);
      }
      if (d.path === undefined && d.backup_command === undefined) err('F2120', `${what} has neither 'path' nor 'backup_command': say what to back up`, pos(), d.name);
      if (d.backup_command !== undefined && d.restore_command === undefined && d.path === undefined)
        err('F2120', `${what} has 'backup_command' but no 'restore_command': float restores datasets when a service moves, and needs the command that loads the stream back`, pos('backup_command'), d.name);
      if (d.restore_command !== undefined && d.backup_command === undefined) err('F2120', `${what} has 'restore_command' without 'backup_command'`, pos('restore_command'), d.name);
      const problem = scheduleProblem(d.schedule);
      if (problem) err('F2121', `${what}: schedule ${problem}`, pos('schedule'), d.name);
      for (const k of ['owner', 'group'] as const) {
        const v = d[k];
        if (v !== undefined && !UNIX_NAME.test(v)) err('F2125', `${what}: ${k} '${v}' is not a user or group name (lowercase letters, digits, '_' and '-')`, pos(k), d.name);
      }
      if (typeof d.mode === 'string' && !MODE.test(d.mode)) err('F2125', `${what}: mode '${d.mode}' is not an octal mode like '0750'`, pos('mode'), d.name);
      if (typeof d.mode === 'number' && (!Number.isInteger(d.mode) || d.mode < 0 || d.mode > 0o7777)) err('F2125', `${what}: mode ${d.mode} is not a file mode; write it as a string like '0750'`, pos('mode'), d.name);
    });
  }
  const g = model.globals;
  const uri = g.backup_repository_uri;
  const gpos = (k: string) => locate(model.sources.globals, [k], { key: true });
  if (typeof uri === 'string' && uri.length > 0) {
    if (/\s/.test(uri) || uri.startsWith('-')) err('F2126', `backup_repository_uri '${uri}' must not contain spaces or start with '-'`, gpos('backup_repository_uri'), 'backup_repository_uri');
    const name = 'backup_repository_restic_password';
    const hasPassword =
      (typeof g[name] === 'string' && (g[name] as string).length > 0) || model.passwords.some((p) => p.name === name) || (model.encryptedKeys.all ?? []).includes(name);
    if (!hasPassword)
      err('F2123', `backup_repository_uri is set but backup_repository_restic_password is not: add it to passwords.yml (float generates it) or to a vault-encrypted group_vars/all file`, gpos('backup_repository_uri'), name);
  } else {
    const first = model.services.find((s) => s.datasets.length > 0);
    if (first)
      err(
        'F2122',
        `service '${first.name}' has datasets but backup_repository_uri is not set: their directories are created, nothing is backed up, and a service that moves starts with empty data`,
        svcPos(model, first.name, ['datasets'], true),
        'datasets',
        'warning',
      );
  }
  return out;
}
