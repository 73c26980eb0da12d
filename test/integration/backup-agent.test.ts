// The backup agent (roles/float-base-backup/files/float-backup) against a real
// restic repository in a local directory: restore on arrival (empty start, restore
// on a new host, existing data kept), backups with metrics, the pipe datasets'
// round trip, a failing backup_command leaving no snapshot, a clear failure on a bad
// password, and pruning by tags. Paths come from the test-only environment overrides.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/tree.js';

const AGENT = join(REPO_ROOT, 'roles/float-base-backup/files/float-backup');
const hasRestic = spawnSync('restic', ['version']).status === 0;

interface Host {
  etc: string;
  markers: string;
  run(...args: string[]): { status: number; out: string; err: string; json: Record<string, unknown> };
}

function makeHost(root: string, name: string, repo: string, pwFile: string, jobs: unknown[], prune: unknown[] = []): Host {
  const etc = join(root, name, 'etc');
  const markers = join(root, name, 'markers');
  mkdirSync(etc, { recursive: true });
  writeFileSync(
    join(etc, 'config.json'),
    JSON.stringify({ repository: repo, password_file: pwFile, cache_dir: join(root, 'cache'), host: name, textfile_dir: join(root, name, 'textfile') }),
  );
  writeFileSync(join(etc, 'jobs.json'), JSON.stringify(jobs));
  writeFileSync(join(etc, 'prune.json'), JSON.stringify(prune));
  return {
    etc,
    markers,
    run(...args: string[]) {
      // A bound, so that an agent that hangs fails the test instead of stalling it.
      const r = spawnSync('python3', [AGENT, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, FLOAT_BACKUP_ETC: etc, FLOAT_BACKUP_MARKERS: markers } });
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}');
      } catch {
        /* not JSON */
      }
      return { status: r.status ?? 1, out: r.stdout, err: r.stderr, json };
    },
  };
}

const fileJob = (path: string) => ({
  id: 'web/www',
  name: 'web_www',
  service: 'web',
  dataset: 'www',
  type: 'file',
  path,
  backup_command: null,
  restore_command: null,
  owner: 'root',
  group: 'root',
  mode: '0750',
  tags: ['float-service=web', 'float-dataset=www'],
  restore_on_arrival: true,
  on_calendar: ['*-*-* 03:00:00'],
  units: [],
});

const pipeJob = (file: string) => ({
  ...fileJob(''),
  id: 'web/db',
  name: 'web_db',
  dataset: 'db',
  type: 'pipe',
  path: null,
  backup_command: `cat ${file}`,
  restore_command: `cat > ${file}.new && mv ${file}.new ${file}`,
  tags: ['float-service=web', 'float-dataset=db'],
});

describe.skipIf(!hasRestic)('backup agent with a local restic repository', () => {
  const root = mkdtempSync(join(tmpdir(), 'float-bk-agent-'));
  const repo = join(root, 'repo');
  const pw = join(root, 'pw');
  writeFileSync(pw, 'agent test password\n', { mode: 0o600 });
  const www1 = join(root, 'h1', 'www');
  const www2 = join(root, 'h2', 'www');
  const table = join(root, 'table.tsv');
  const h1 = makeHost(root, 'h1', repo, pw, [fileJob(www1), pipeJob(table)]);
  const h2 = makeHost(root, 'h2', repo, pw, [fileJob(www2)]);

  it('a dataset arriving where there is no snapshot starts empty (the repository is created), once', () => {
    const r = h1.run('arrive', 'web_www');
    expect(r.status, r.err).toBe(0);
    expect(r.json).toEqual({ changed: true, result: 'empty' });
    expect(existsSync(join(repo, 'config'))).toBe(true);
    expect(statSync(www1).mode & 0o7777).toBe(0o750);
    // The marker (whose absence a failed restore is checked by, below) is written.
    expect(existsSync(join(h1.markers, 'web_www'))).toBe(true);
    expect(h1.run('arrive', 'web_www').json).toEqual({ changed: false, result: 'present' });
  });

  it('backs up a directory, tagged, and writes the metrics', () => {
    writeFileSync(join(www1, 'hello.txt'), 'hello from h1\n');
    const r = h1.run('backup', 'web_www');
    expect(r.status, r.err).toBe(0);
    const prom = readFileSync(join(root, 'h1', 'textfile', 'float_backup_web_www.prom'), 'utf8');
    expect(prom).toMatch(/^float_backup_last_success_timestamp_seconds\{service="web",dataset="www"\} \d+$/m);
    expect(prom).toMatch(/^float_backup_last_size_bytes\{service="web",dataset="www"\} 14$/m);
    // promtool, where installed, accepts the file.
    if (spawnSync('promtool', ['--version']).status === 0) {
      const check = spawnSync('promtool', ['check', 'metrics'], { input: prom, encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);
    }
    const snaps = JSON.parse(h1.run('snapshots', '--json').out) as Array<{ service: string; dataset: string; host: string }>;
    expect(snaps).toEqual([expect.objectContaining({ service: 'web', dataset: 'www', host: 'h1' })]);
  });

  it('on a new host the latest snapshot is restored; data already there is never overwritten', () => {
    const r = h2.run('arrive', 'web_www');
    expect(r.status, r.err).toBe(0);
    expect(r.json).toMatchObject({ changed: true, result: 'restored' });
    expect(readFileSync(join(www2, 'hello.txt'), 'utf8')).toBe('hello from h1\n');
    expect(statSync(www2).mode & 0o7777).toBe(0o750);
    const h3www = join(root, 'h3', 'www');
    mkdirSync(h3www, { recursive: true });
    writeFileSync(join(h3www, 'mine.txt'), 'local data\n');
    const h3 = makeHost(root, 'h3', repo, pw, [fileJob(h3www)]);
    expect(h3.run('arrive', 'web_www').json).toEqual({ changed: true, result: 'kept-existing' });
    expect(existsSync(join(h3www, 'hello.txt'))).toBe(false);
    expect(readFileSync(join(h3www, 'mine.txt'), 'utf8')).toBe('local data\n');
  });

  it('backup_command / restore_command round-trip; a failing backup_command leaves no snapshot', () => {
    const rows = Array.from({ length: 500 }, (_, i) => `${i}\tname-${i}\t${(i * 7919) % 1000}`).join('\n') + '\n';
    writeFileSync(table, rows);
    expect(h1.run('backup', 'web_db').status).toBe(0);
    writeFileSync(table, 'garbage\n');
    const r = h1.run('restore', 'web_db');
    expect(r.status, r.err).toBe(0);
    expect(readFileSync(table, 'utf8')).toBe(rows);
    // float restore names the dataset by its id (SERVICE/DATASET).
    writeFileSync(table, 'garbage\n');
    const byId = h1.run('restore', 'web/db');
    expect(byId.status, byId.err).toBe(0);
    expect(readFileSync(table, 'utf8')).toBe(rows);
    const count = () => (JSON.parse(h1.run('snapshots', '--json').out) as Array<{ dataset: string }>).filter((s) => s.dataset === 'db').length;
    const n = count();
    // Positive control: the count sees the snapshot the backup above made.
    expect(n).toBeGreaterThan(0);
    writeFileSync(join(h1.etc, 'jobs.json'), JSON.stringify([{ ...pipeJob(table), backup_command: `cat ${table}; exit 3` }]));
    const bad = h1.run('backup', 'web_db');
    expect(bad.status).not.toBe(0);
    expect(bad.err).toMatch(/backup_command of web\/db failed \(exit 3\)/);
    expect(count()).toBe(n);
    writeFileSync(join(h1.etc, 'jobs.json'), JSON.stringify([fileJob(www1), pipeJob(table)]));
  });

  it('a backup_command that writes much to stderr (more than a pipe holds) is backed up, and its stderr shown when it fails', () => {
    const noisy = (exit: number) => `head -c 300000 /dev/zero | tr '\\0' x >&2; cat ${table}; echo ' the end' >&2; exit ${exit}`;
    const count = () => (JSON.parse(h1.run('snapshots', '--json').out) as Array<{ dataset: string }>).filter((s) => s.dataset === 'db').length;
    const n = count();
    writeFileSync(join(h1.etc, 'jobs.json'), JSON.stringify([{ ...pipeJob(table), backup_command: noisy(0) }]));
    const ok = h1.run('backup', 'web_db');
    expect(ok.status, ok.err).toBe(0);
    expect(count()).toBe(n + 1);
    writeFileSync(join(h1.etc, 'jobs.json'), JSON.stringify([{ ...pipeJob(table), backup_command: noisy(4) }]));
    const bad = h1.run('backup', 'web_db');
    expect(bad.status).not.toBe(0);
    expect(bad.err).toMatch(/backup_command of web\/db failed \(exit 4\): x+ the end$/m);
    expect(count()).toBe(n + 1);
    writeFileSync(join(h1.etc, 'jobs.json'), JSON.stringify([fileJob(www1), pipeJob(table)]));
  });

  it('a restore that cannot read the repository fails with the reason, and leaves no marker', () => {
    const badPw = join(root, 'badpw');
    writeFileSync(badPw, 'wrong\n');
    const h4 = makeHost(root, 'h4', repo, badPw, [fileJob(join(root, 'h4', 'www'))]);
    const r = h4.run('arrive', 'web_www');
    expect(r.status).not.toBe(0);
    expect(r.err).toMatch(/^float-backup arrive: .*(wrong password|cannot be opened)/m);
    expect(existsSync(join(h4.markers, 'web_www'))).toBe(false);
    expect(existsSync(join(root, 'h4', 'www'))).toBe(false);
  });

  it('prune forgets by the policy, per dataset, and leaves other datasets alone', () => {
    const pruner = makeHost(root, 'p', repo, pw, [], [{ id: 'web/www', tags: ['float-service=web', 'float-dataset=www'], args: ['--keep-within', '1h'] }]);
    for (const t of ['2026-01-01 00:00:00', '2026-01-02 00:00:00']) {
      const r = pruner.run('restic', '--', 'backup', '-q', '--time', t, '--tag', 'float-service=web', '--tag', 'float-dataset=www', www1);
      expect(r.status, r.err).toBe(0);
    }
    const before = JSON.parse(pruner.run('snapshots', '--json').out) as Array<{ dataset: string }>;
    const r = pruner.run('prune');
    expect(r.status, r.err).toBe(0);
    expect(r.json).toMatchObject({ forgotten: 2 });
    const after = JSON.parse(pruner.run('snapshots', '--json').out) as Array<{ dataset: string }>;
    expect(after.filter((s) => s.dataset === 'www')).toHaveLength(1);
    expect(after.filter((s) => s.dataset === 'db')).toEqual(before.filter((s) => s.dataset === 'db'));
  });
});
