// Datasets and backups on the shared cluster hosts: a restic repository over sftp on
// aux1 (float serves it: the URI names a float host), a busybox httpd service whose
// dataset lives on be1 (group bk-a), a pipe dataset (backup_command/restore_command),
// and a dataset only used to check the retention policy.
import { expect, it } from 'vitest';
import type { SnapshotRow } from '../../../src/cli/backups.js';
import { kept } from '../../helpers/restic-policy.js';
import type { ClusterCtx, ClusterSuite } from './suite.js';

const PORT = 8180;
const WWW = '/var/lib/bk-web/www';
const TABLE = '/var/lib/bk-db/table.tsv';
const RET_TAGS = 'float-service=bk-ret,float-dataset=data';

/** Snapshot times for the retention check (UTC): 41 across four months. */
const NEWEST = [
  '2026-11-30 12:00:00', '2026-11-30 11:50:00', '2026-11-30 11:20:00', '2026-11-30 10:40:00', '2026-11-30 10:05:00',
  '2026-11-30 09:40:00', '2026-11-30 09:10:00', '2026-11-30 07:15:00', '2026-11-30 03:45:00',
  '2026-11-29 22:30:00', '2026-11-29 14:00:00', '2026-11-29 13:20:00', '2026-11-28 13:00:00', '2026-11-28 11:00:00',
  '2026-11-27 20:00:00', '2026-11-27 08:00:00', '2026-11-20 10:00:00', '2026-11-17 10:00:00', '2026-11-16 10:00:00',
];
const OLDER = Array.from({ length: 22 }, (_, i) => {
  const d = new Date(Date.UTC(2026, 7, 1, 6, 0, 0) + i * 5 * 86400_000);
  return d.toISOString().slice(0, 19).replace('T', ' ');
}).filter((s) => s < '2026-11-16');
const TIMES = [...NEWEST, ...OLDER];

/** The JSON document in a command's output (stdout and stderr together: other lines may surround it). */
function json<T>(text: string): T {
  const lines = text.trim().split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*[[{]/.test(lines[i])) continue;
    for (let j = lines.length; j > i; j--) {
      try {
        return JSON.parse(lines.slice(i, j).join('\n')) as T;
      } catch {
        /* keep looking */
      }
    }
  }
  throw new Error(`no JSON in: ${text}`);
}

const snapshotsOn = (ctx: ClusterCtx, host: string): SnapshotRow[] => {
  const r = ctx.on(host, '/usr/local/sbin/float-backup snapshots --json');
  expect(r.status, r.out).toBe(0);
  return json<SnapshotRow[]>(r.out);
};

const curl = (ctx: ClusterCtx, host: string, file: string) => ctx.on(host, `curl -sS --max-time 5 http://127.0.0.1:${PORT}/${file}`);

export const backupsSuite: ClusterSuite = {
  name: 'backups',
  hostGroups: { be1: ['bk-a'], be2: ['bk-b'] },
  passwords: ['- {name: backup_repository_restic_password, length: 32}'],
  globals: (l) => `backup_repository_uri: "sftp:float-backup@aux1.${l.domain}:/srv/float-backup/restic"\n`,
  services: () => `
bk-web:
  scheduling_group: bk-a # bk-web placement
  num_instances: 1
  containers:
    - name: http
      image: localhost/busybox:latest
      port: ${PORT}
      args: /bin/httpd -f -p ${PORT} -h /data
      volumes:
        - ${WWW}: /data
  datasets:
    - name: www
      path: ${WWW}
      schedule: "@random_every 1d"
    - name: db
      backup_command: cat ${TABLE}
      restore_command: mkdir -p /var/lib/bk-db && cat > ${TABLE}.new && mv ${TABLE}.new ${TABLE}
      schedule: "30 3 * * *"
bk-ret:
  scheduling_group: bk-a
  num_instances: 1
  datasets:
    - name: data
      path: /var/lib/bk-ret/data
      schedule: "0 12 1 1 *"
`,

  checks(ctx) {
    it('the restic password file is 0600 root, and the agent opens the repository with it', () => {
      expect(ctx.on('be1', 'stat -c "%a %U %G" /etc/float/backup/restic-password').out).toBe('600 root root');
      expect(ctx.on('be1', 'stat -c "%a %U %G" /etc/float/backup/ssh_key').out).toBe('600 root root');
      // Hosts without backup jobs do not get the password at all.
      expect(ctx.on('fe1', 'test -e /etc/float/backup/restic-password || echo absent').out).toBe('absent');
      // Positive control: the password in that file opens the repository on aux1.
      const r = ctx.on('be1', '/usr/local/sbin/float-backup restic -- cat config');
      expect(r.status, r.out).toBe(0);
      // The repository is on aux1, owned by the sftp-only account float created.
      expect(ctx.on('aux1', 'stat -c "%U %a" /srv/float-backup/restic').out).toBe('float-backup 700');
      expect(ctx.on('aux1', 'stat -c "%U" /srv/float-backup/restic/config').out).toBe('float-backup');
      // That account gets sftp only: a shell command is not run.
      const shell = ctx.on('be1', `timeout 30 ssh -i /etc/float/backup/ssh_key -o BatchMode=yes float-backup@aux1.${ctx.domain} echo shell-ran </dev/null`);
      expect(shell.out).not.toContain('shell-ran');
      // Positive control: that same ssh logged in, and ran the forced sftp-server instead
      // (which ends at the end of its input with status 0; ssh itself fails with 255).
      expect(shell.status, shell.out).toBe(0);
    });

    it('the dataset directory exists with the service user, and the first start was recorded as empty', () => {
      expect(ctx.on('be1', `stat -c "%U %G %a" ${WWW}`).out).toBe('docker-bk-web docker-bk-web 750');
      expect(json<{ result: string }>(ctx.on('be1', 'cat /var/lib/float/backup/markers/bk-web_www').out).result).toBe('empty');
      // be2 does not run the service: no dataset, no timer there.
      expect(ctx.on('be2', `test -e ${WWW} || echo absent`).out).toBe('absent');
      expect(ctx.on('be1', 'systemctl is-enabled float-backup-bk-web_www.timer').out).toBe('enabled');
      expect(ctx.on('be2', 'systemctl is-enabled float-backup-bk-web_www.timer').out).not.toBe('enabled');
    });

    it('a file written into the dataset is backed up by the timer\'s service, tagged with service and dataset, with metrics', () => {
      const put = ctx.on('be1', `echo "hello from be1 $(date +%s%N)" > ${WWW}/hello.txt && chown docker-bk-web: ${WWW}/hello.txt && cat ${WWW}/hello.txt`);
      expect(put.status, put.out).toBe(0);
      // The container serves it (positive control for the move below).
      expect(curl(ctx, 'be1', 'hello.txt').out).toBe(put.out);
      const before = snapshotsOn(ctx, 'be1').filter((s) => s.service === 'bk-web' && s.dataset === 'www').length;
      const run = ctx.on('be1', 'systemctl start float-backup-bk-web_www.service && systemctl show -p Result --value float-backup-bk-web_www.service');
      expect(run.out).toBe('success');
      const snaps = snapshotsOn(ctx, 'be1').filter((s) => s.service === 'bk-web' && s.dataset === 'www');
      expect(snaps.length).toBe(before + 1);
      const tags = json<Array<{ tags: string[]; paths: string[] }>>(ctx.on('be1', `/usr/local/sbin/float-backup restic -- snapshots --json --tag float-service=bk-web,float-dataset=www`).out);
      expect(tags.at(-1)!.tags.sort()).toEqual(['float-dataset=www', 'float-service=bk-web']);
      expect(tags.at(-1)!.paths).toEqual([WWW]);
      const prom = ctx.on('be1', 'cat /var/lib/prometheus/node-exporter/float_backup_bk-web_www.prom').out;
      const ts = Number(/^float_backup_last_success_timestamp_seconds\{service="bk-web",dataset="www"\} (\d+)$/m.exec(prom)?.[1]);
      expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(600);
      const size = Number(/^float_backup_last_size_bytes\{service="bk-web",dataset="www"\} (\d+)$/m.exec(prom)?.[1]);
      expect(size).toBe(put.out.length + 1);
      // float backups reads the same repository and names the snapshot.
      const cli = ctx.float(['backups', '--json']);
      expect(cli.status, cli.out).toBe(0);
      const rows = json<Array<{ id: string; hosts: string[]; latest: { id: string } | null }>>(cli.out);
      const row = rows.find((r) => r.id === 'bk-web/www')!;
      expect(row.hosts).toEqual(['be1']);
      expect(row.latest?.id).toBe(snaps.at(-1)!.id);
    });

    it('backup_command / restore_command round-trip a database-like stream (float restore)', () => {
      const rows = Array.from({ length: 200 }, (_, i) => `${i}\\tname-${i}\\t${(i * 7919) % 1000}`).join('\\n');
      const write = ctx.on('be1', `mkdir -p /var/lib/bk-db && printf '${rows}\\n' > ${TABLE} && sha256sum < ${TABLE}`);
      expect(write.status, write.out).toBe(0);
      const run = ctx.on('be1', 'systemctl start float-backup-bk-web_db.service && systemctl show -p Result --value float-backup-bk-web_db.service');
      expect(run.out).toBe('success');
      // Damage the table, then restore on purpose.
      ctx.on('be1', `printf 'garbage\\n' > ${TABLE}`);
      expect(ctx.on('be1', `sha256sum < ${TABLE}`).out).not.toBe(write.out);
      const restore = ctx.float(['restore', 'bk-web/db', '--host', 'be1']);
      expect(restore.status, restore.out).toBe(0);
      expect(restore.out).toMatch(/restored bk-web\/db on be1 from snapshot [0-9a-f]{8}/);
      expect(ctx.on('be1', `sha256sum < ${TABLE}`).out).toBe(write.out);
      expect(ctx.on('be1', `wc -l < ${TABLE}`).out).toBe('200');
      // A failing backup_command leaves no snapshot behind and fails the unit.
      const count = () => snapshotsOn(ctx, 'be1').filter((s) => s.dataset === 'db').length;
      const n = count();
      // Positive control: the count sees the snapshot the run above made.
      expect(n).toBeGreaterThan(0);
      ctx.on('be1', `mv ${TABLE} ${TABLE}.away`);
      expect(ctx.on('be1', 'systemctl start float-backup-bk-web_db.service; systemctl show -p Result --value float-backup-bk-web_db.service').out).not.toBe('success');
      ctx.on('be1', `mv ${TABLE}.away ${TABLE}`);
      expect(count()).toBe(n);
    });

    it('retention: backdated snapshots across four months, then the prune job keeps exactly the policy\'s set', () => {
      // be1 prunes: it is the first host with backup jobs (no service named backup here).
      expect(ctx.on('be1', 'systemctl is-enabled float-backup-prune.timer').out).toBe('enabled');
      expect(ctx.on('be2', 'test -e /etc/systemd/system/float-backup-prune.timer || echo absent').out).toBe('absent');
      expect(ctx.on('be1', 'test -e /etc/systemd/system/float-backup-prune.timer || echo absent').out).toBe('');
      ctx.on('be1', 'mkdir -p /var/lib/bk-ret/data && echo data > /var/lib/bk-ret/data/f');
      for (let i = 0; i < TIMES.length; i += 6) {
        const cmds = TIMES.slice(i, i + 6).map(
          (t) => `/usr/local/sbin/float-backup restic -- backup -q --host be1 --time '${t}' --tag float-service=bk-ret --tag float-dataset=data /var/lib/bk-ret/data`,
        );
        const r = ctx.on('be1', cmds.join(' && '));
        expect(r.status, r.out).toBe(0);
      }
      const list = () =>
        json<Array<{ time: string }>>(ctx.on('be1', `/usr/local/sbin/float-backup restic -- snapshots --json --tag ${RET_TAGS}`).out)
          .map((s) => new Date(s.time).toISOString().slice(0, 19).replace('T', ' '))
          .sort();
      expect(list()).toEqual([...TIMES].sort());
      const prune = ctx.on('be1', 'systemctl start float-backup-prune.service && systemctl show -p Result --value float-backup-prune.service');
      expect(prune.out).toBe('success');
      const expected = kept(TIMES, { within: '2h', hourly: '48h', daily: '14d', weekly: '84d' }).sort();
      expect(list()).toEqual(expected);
      // The schedule, spelled out: all of the last 2 hours, one per hour for 48 hours,
      // one per day for 14 days, one per week for 12 weeks, nothing older.
      expect(expected).toContain('2026-11-30 10:05:00');
      expect(expected).toContain('2026-11-30 09:40:00');
      expect(expected).not.toContain('2026-11-30 09:10:00');
      expect(expected).toContain('2026-11-28 13:00:00');
      expect(expected).not.toContain('2026-11-28 11:00:00');
      expect(expected).toContain('2026-11-17 10:00:00');
      expect(expected).not.toContain('2026-11-16 10:00:00');
      expect(expected).not.toContain('2026-08-01 06:00:00');
      expect(expected.length).toBeGreaterThan(15);
      expect(expected.length).toBeLessThan(TIMES.length - 10);
      // The other datasets' snapshots are untouched.
      expect(snapshotsOn(ctx, 'be1').filter((s) => s.service === 'bk-web' && s.dataset === 'www').length).toBeGreaterThan(0);
    });
  },

  changes(ctx) {
    it('moved to be2, the service serves the restored file from its first response; be1 keeps its copy', () => {
      const original = ctx.on('be1', `cat ${WWW}/hello.txt`).out;
      expect(original).toMatch(/^hello from be1/);
      ctx.edit('services.yml', (t) => t.replace('scheduling_group: bk-a # bk-web placement', 'scheduling_group: bk-b # bk-web placement'), 'move bk-web to be2');
      ctx.runOk([], 'backups: move bk-web');
      const marker = json<{ result: string; time: string }>(ctx.on('be2', 'cat /var/lib/float/backup/markers/bk-web_www').out);
      expect(marker.result).toBe('restored');
      expect(ctx.on('be2', `cat ${WWW}/hello.txt`).out).toBe(original);
      expect(ctx.on('be2', `stat -c "%U %G %a" ${WWW} ${WWW}/hello.txt`).out).toBe('docker-bk-web docker-bk-web 750\ndocker-bk-web docker-bk-web 644');
      // The restore finished before the container started.
      const started = ctx.on('be2', "podman inspect --format '{{.State.StartedAt}}' bk-web-http").out;
      expect(new Date(marker.time).getTime()).toBeLessThan(new Date(started.replace(/ \+0000 UTC.*$/, 'Z').replace(' ', 'T')).getTime());
      expect(curl(ctx, 'be2', 'hello.txt').out).toBe(original);
      // The pipe dataset moved too.
      expect(json<{ result: string }>(ctx.on('be2', 'cat /var/lib/float/backup/markers/bk-web_db').out).result).toBe('restored');
      expect(ctx.on('be2', `wc -l < ${TABLE}`).out).toBe('200');
      // be1: the data is left alone, the service and its backup timer are gone.
      expect(ctx.on('be1', `cat ${WWW}/hello.txt`).out).toBe(original);
      expect(curl(ctx, 'be1', 'hello.txt').status).not.toBe(0);
      expect(ctx.on('be1', 'test -e /etc/systemd/system/float-backup-bk-web_www.timer || echo absent').out).toBe('absent');
      expect(ctx.on('be2', 'test -e /etc/systemd/system/float-backup-bk-web_www.timer || echo absent').out).toBe('');
      expect(ctx.on('be2', 'systemctl is-enabled float-backup-bk-web_www.timer').out).toBe('enabled');
    });
  },
};
