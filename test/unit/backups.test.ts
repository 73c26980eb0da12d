// Datasets and backups: the schedule conversion (cron and @random_every to systemd
// OnCalendar, checked by systemd-analyze), the per-host offsets (deterministic,
// spread, stable when hosts are added), the backup jobs derive computes, the
// retention arguments, and the load-time checks F2120-F2126.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKUP_RETENTION, retentionArgs } from '../../src/config/schema/backup-retention.js';
import { onCalendar, parseInterval, randomEveryOffset, scheduleProblem } from '../../src/inventory/backup-schedule.js';
import { backupJobs, parseSftpUri, pruneHost } from '../../src/inventory/backups.js';
import { makeContext } from '../../src/inventory/context.js';
import { deriveInventory } from '../../src/inventory/derive.js';
import { plan } from '../../src/plan.js';
import { diagnose } from '../helpers/diagnose.js';
import { baseTree, writeTree } from '../helpers/tree.js';

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

/** systemd's own reading of an OnCalendar expression: its normalized form, or the error. */
function systemdCalendar(expr: string, iterations = 1): { ok: boolean; out: string } {
  const r = spawnSync('systemd-analyze', ['calendar', `--iterations=${iterations}`, '--base-time=2026-06-01 00:00:00 UTC', expr], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC', SYSTEMD_COLORS: '0' },
  });
  return { ok: r.status === 0, out: r.stdout + r.stderr };
}

/** The next `n` times (UTC, "YYYY-MM-DD HH:MM:SS") systemd would run the timer with these OnCalendar lines. */
function nextRuns(exprs: string[], n: number): string[] {
  const all = exprs.flatMap((e) => [...systemdCalendar(e, n).out.matchAll(/(?:Next elapse|Iter\. #\d+):\s+\w+ (\S+ \S+) UTC/g)].map((m) => m[1]));
  return [...new Set(all)].sort().slice(0, n);
}

describe('schedules', () => {
  it('reads intervals', () => {
    expect(parseInterval('1d')).toBe(86400);
    expect(parseInterval('12h')).toBe(43200);
    expect(parseInterval('1h30m')).toBe(5400);
    expect(parseInterval('1w')).toBe(604800);
    expect(() => parseInterval('1 day')).toThrow(/not an interval/);
    expect(() => parseInterval('0h')).toThrow(/zero/);
  });

  it('@random_every: the same offset on every call, inside the interval', () => {
    for (const i of [60, 3600, 86400, 604800]) {
      const a = randomEveryOffset('host1', 'web', 'data', i);
      expect(randomEveryOffset('host1', 'web', 'data', i)).toBe(a);
      expect(a).toBeGreaterThanOrEqual(0);
      expect(a).toBeLessThan(i);
    }
    expect(onCalendar('@random_every 1d', 'host1', 'web', 'data')).toEqual(onCalendar('@random_every 1d', 'host1', 'web', 'data'));
  });

  it('@random_every: offsets spread over the interval across many hosts and datasets', () => {
    // 2400 host/dataset pairs into 24 one-hour buckets: each gets roughly 100.
    const buckets = new Array(24).fill(0);
    for (let h = 0; h < 1200; h++) for (const d of ['data', 'db']) buckets[Math.floor(randomEveryOffset(`host${h}`, 'web', d, 86400) / 3600)]++;
    expect(Math.min(...buckets)).toBeGreaterThan(60);
    expect(Math.max(...buckets)).toBeLessThan(140);
    // Different datasets of one host get different offsets.
    expect(randomEveryOffset('host1', 'web', 'a', 86400)).not.toBe(randomEveryOffset('host1', 'web', 'b', 86400));
  });

  it('@random_every: adding hosts leaves the existing hosts\' timers as they were', () => {
    const hosts = (n: number) => Array.from({ length: n }, (_, i) => `  be${i}:\n    ips: [10.0.1.${i + 1}]\n    groups: [backend]`).join('\n');
    const tree = (n: number) =>
      baseTree({
        'hosts.yml': `hosts:\n${hosts(n)}\n`,
        'services.yml': 'web:\n  scheduling_group: backend\n  num_instances: all\n  datasets:\n    - {name: data, path: /var/lib/web}\n',
      });
    const timers = (n: number) => {
      const p = plan(join(writeTree(tree(n)), 'config.yml'));
      const ctx = makeContext(p.model, p.schedule);
      return Object.fromEntries(p.model.hosts.map((h) => [h.name, backupJobs(ctx, h)[0].on_calendar]));
    };
    const before = timers(5);
    const after = timers(9);
    for (const [h, cal] of Object.entries(before)) expect(after[h], h).toEqual(cal);
    expect(new Set(Object.values(after).map((c) => c[0])).size).toBeGreaterThan(5);
  });

  it.skipIf(!hasSystemdAnalyze)('@random_every: systemd reads every form, and runs it once per interval', () => {
    for (const [interval, perDay] of [['1d', 1], ['12h', 2], ['6h', 4], ['90m', 16], ['15m', 96]] as const) {
      for (const host of ['be1', 'be2', 'fe1']) {
        const exprs = onCalendar(`@random_every ${interval}`, host, 'web', 'data');
        for (const e of exprs) expect(systemdCalendar(e).ok, `${interval} ${e}`).toBe(true);
        const runs = nextRuns(exprs, perDay + 1);
        // Consecutive runs are exactly one interval apart.
        const secs = runs.map((r) => Date.parse(r.replace(' ', 'T') + 'Z') / 1000);
        for (let i = 1; i < secs.length; i++) expect(secs[i] - secs[i - 1], `${interval} ${exprs.join(' | ')}`).toBe(parseInterval(interval));
      }
    }
    const weekly = onCalendar('@random_every 7d', 'be1', 'web', 'data');
    expect(weekly).toHaveLength(1);
    expect(systemdCalendar(weekly[0]).ok).toBe(true);
  });

  it.skipIf(!hasSystemdAnalyze)('cron lines become the OnCalendar expressions systemd reads the same way', () => {
    const cases: Array<[string, string, string[]]> = [
      ['30 3 * * *', '*-*-* 03:30:00', ['2026-06-01 03:30:00', '2026-06-02 03:30:00']],
      ['*/15 9-17 * * mon-fri', 'Mon,Tue,Wed,Thu,Fri *-*-* 09,10,11,12,13,14,15,16,17:00,15,30,45:00', ['2026-06-01 09:00:00', '2026-06-01 09:15:00']],
      ['0 0 1 */3 *', '*-01,04,07,10-01 00:00:00', ['2026-07-01 00:00:00', '2026-10-01 00:00:00']],
      ['5 4 * * 0', 'Sun *-*-* 04:05:00', ['2026-06-07 04:05:00', '2026-06-14 04:05:00']],
      ['5 4 * * 7', 'Sun *-*-* 04:05:00', ['2026-06-07 04:05:00', '2026-06-14 04:05:00']],
      ['0 12 1 1 *', '*-01-01 12:00:00', ['2027-01-01 12:00:00', '2028-01-01 12:00:00']],
      ['@daily', '*-*-* 00:00:00', ['2026-06-02 00:00:00', '2026-06-03 00:00:00']],
    ];
    for (const [cron, expr, next] of cases) {
      expect(onCalendar(cron, 'h', 's', 'd'), cron).toEqual([expr]);
      expect(systemdCalendar(expr).ok, expr).toBe(true);
      expect(nextRuns([expr], 2), cron).toEqual(next);
    }
  });

  it('refuses what cannot become a timer, with a reason', () => {
    expect(scheduleProblem('@random_every 5h')).toMatch(/must divide a day/);
    expect(scheduleProblem('@random_every 2d')).toMatch(/must divide a day/);
    expect(scheduleProblem('@random_every')).toMatch(/@random_every <interval>/);
    expect(scheduleProblem('0 0 1 * mon')).toMatch(/both the day of month and the day of week/);
    expect(scheduleProblem('61 * * * *')).toMatch(/minute '61'/);
    expect(scheduleProblem('* * * *')).toMatch(/5 fields/);
    expect(scheduleProblem('@every 1h')).toMatch(/not a schedule float knows/);
    expect(scheduleProblem('@random_every 1d')).toBeUndefined();
  });
});

describe('retention', () => {
  it('defaults to the schedule of the older tool, as restic forget options', () => {
    expect(retentionArgs(DEFAULT_BACKUP_RETENTION)).toEqual(['--keep-within', '2h', '--keep-within-hourly', '48h', '--keep-within-daily', '14d', '--keep-within-weekly', '84d']);
    expect(retentionArgs({ daily: '7d', yearly: '2y' })).toEqual(['--keep-within-daily', '7d', '--keep-within-yearly', '2y']);
  });
});

const SERVICES = `store:
  scheduling_group: backend
  num_instances: 2
  master_election: true
  datasets:
    - name: files
      path: /var/lib/store/files
    - name: dump
      backup_command: pg_dump x
      restore_command: psql x
      on_master_only: true
    - name: part
      path: /var/lib/store/part
      sharded: true
      backup_retention: {daily: 7d}
`;

describe('backup jobs', () => {
  const tree = (over: Record<string, string> = {}) =>
    baseTree({
      'services.yml': SERVICES,
      'group_vars/all.yml': 'domain: internal.example.com\ndomain_public: [example.com]\nbackup_repository_uri: "sftp:bk@host1.internal.example.com:/srv/restic"\nbackup_retention: {within: 1h, daily: 30d}\n',
      'passwords.yml': '- {name: backup_repository_restic_password}\n',
      ...over,
    });

  it('every dataset of every instance, on_master_only on the master only, sharded ones tagged by shard and never restored', () => {
    const p = plan(join(writeTree(tree()), 'config.yml'));
    const inv = deriveInventory(p.model, p.schedule);
    const master = p.schedule.masters.store;
    const other = p.schedule.assignments.store.find((h) => h !== master)!;
    const jobs = (h: string) => inv.hostVars[h].float_backup_jobs as Array<Record<string, unknown>>;
    expect(jobs(master).map((j) => j.id)).toEqual(['store/files', 'store/dump', 'store/part']);
    expect(jobs(other).map((j) => j.id)).toEqual(['store/files', 'store/part']);
    expect(jobs('host1')).toEqual([]);
    const files = jobs(master)[0];
    expect(files).toMatchObject({ name: 'store_files', type: 'file', path: '/var/lib/store/files', owner: 'docker-store', group: 'docker-store', mode: '0750', restore_on_arrival: true });
    expect(files.tags).toEqual(['float-service=store', 'float-dataset=files']);
    expect(jobs(master)[1]).toMatchObject({ type: 'pipe', path: null, backup_command: 'pg_dump x', restore_command: 'psql x' });
    expect(jobs(other)[1]).toMatchObject({ restore_on_arrival: false, tags: ['float-service=store', 'float-dataset=part', `float-shard=${other}`] });
    // Exactly one host prunes, with the global retention unless the dataset has its own.
    const pruners = Object.keys(inv.hostVars).filter((h) => (inv.hostVars[h].float_backup_prune as unknown[]).length > 0);
    expect(pruners).toEqual([pruneHost(makeContext(p.model, p.schedule))]);
    const groups = inv.hostVars[pruners[0]].float_backup_prune as Array<{ id: string; args: string[] }>;
    expect(groups.map((g) => [g.id, g.args.join(' ')])).toEqual([
      ['store/files', '--keep-within 1h --keep-within-daily 30d'],
      ['store/dump', '--keep-within 1h --keep-within-daily 30d'],
      ['store/part', '--keep-within-daily 7d'],
    ]);
    // The sftp repository is on a float host: that host serves it.
    expect(inv.groupVars.all.float).toMatchObject({ float_backup_enabled: true, float_backup_sftp_server: { inventory_host: 'host1', user: 'bk', path: '/srv/restic' } });
  });

  it('a service named backup chooses the pruning host', () => {
    const p = plan(join(writeTree(tree({ 'services.yml': SERVICES + 'backup:\n  scheduling_group: frontend\n  num_instances: 1\n' })), 'config.yml'));
    expect(pruneHost(makeContext(p.model, p.schedule))).toBe('host1');
  });

  it('reads restic sftp URIs', () => {
    expect(parseSftpUri('sftp:u@h.example:/srv/r')).toEqual({ user: 'u', host: 'h.example', path: '/srv/r' });
    expect(parseSftpUri('sftp://u@h.example:2222//srv/r')).toEqual({ user: 'u', host: 'h.example', path: '/srv/r', port: 2222 });
    expect(parseSftpUri('sftp://u@h.example//srv/r')).toEqual({ user: 'u', host: 'h.example', path: '/srv/r' });
    expect(parseSftpUri('rest:https://h/r')).toBeUndefined();
  });
});

describe('checks', () => {
  const found = (files: Record<string, string>) => diagnose(files).map((d) => d.at);
  it('F2120-F2126, positioned', () => {
    expect(found({ 'services.yml': 'web:\n  scheduling_group: backend\n  datasets:\n    - name: a\n    - {name: b, backup_command: x}\n    - {name: c, path: /c, restore_command: y}\n' })).toEqual(
      expect.arrayContaining(['services.yml:4:7 F2120', 'services.yml:5:33 F2120', 'services.yml:6:44 F2120']),
    );
    expect(found({ 'services.yml': 'web:\n  scheduling_group: backend\n  datasets:\n    - {name: a, path: /a, schedule: "@random_every 5h"}\n' })).toContain('services.yml:4:37 F2121');
    expect(found({ 'services.yml': 'web:\n  scheduling_group: backend\n  datasets:\n    - {name: a, path: /a}\n    - {name: a, path: /a}\n' })).toEqual(
      expect.arrayContaining(['services.yml:5:14 F2124', 'services.yml:5:23 F2124']),
    );
    expect(found({ 'services.yml': 'web:\n  scheduling_group: backend\n  datasets:\n    - {name: a, path: /a, owner: Root, mode: "999"}\n' })).toEqual(
      expect.arrayContaining(['services.yml:4:34 F2125', 'services.yml:4:46 F2125']),
    );
    // Datasets without a repository: a warning, and nothing else.
    expect(diagnose({ 'services.yml': 'web:\n  scheduling_group: backend\n  datasets:\n    - {name: a, path: /a}\n' })).toEqual([
      expect.objectContaining({ at: 'services.yml:3:3 F2122', severity: 'warning' }),
    ]);
    // A repository without its password is an error; with it (passwords.yml), none.
    const repo = 'domain: internal.example.com\ndomain_public: [example.com]\nbackup_repository_uri: "sftp:u@h:/r"\n';
    expect(found({ 'group_vars/all.yml': repo })).toEqual(['group_vars/all.yml:3:1 F2123']);
    expect(found({ 'group_vars/all.yml': repo, 'passwords.yml': '- {name: backup_repository_restic_password}\n' })).toEqual([]);
    expect(found({ 'group_vars/all.yml': repo.replace('sftp:u@h:/r', '-o x'), 'passwords.yml': '- {name: backup_repository_restic_password}\n' })).toEqual(['group_vars/all.yml:3:1 F2126']);
  });
});
