// The rollback check of float-util-config-commit, run by ansible-playbook on
// localhost against a real git repository: the commit id read back from a host
// is data from that host, and only a full commit id ever reaches git.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, writeTree } from '../helpers/tree.js';

describe('float-util-config-commit: the commit recorded on a host', () => {
  const repo = writeTree({ 'config.yml': 'plugin: float\n' }, 'float-commit-');
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
  let c1 = '';
  let c2 = '';
  beforeAll(() => {
    git('init', '-q');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'one');
    c1 = git('rev-parse', 'HEAD');
    writeFileSync(join(repo, 'hosts.yml'), 'hosts: {}\n');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'two');
    c2 = git('rev-parse', 'HEAD');
  });

  /** Runs the check with `recorded` as the host's fact, applying `applying`. */
  function check(recorded: unknown, applying: string, vars: Record<string, unknown> = {}): { status: number; out: string } {
    const dir = writeTree({
      'float.fact': JSON.stringify({ commit: recorded, dirty: false }) + '\n',
      'play.yml': [
        '- hosts: localhost',
        '  connection: local',
        '  gather_facts: false',
        '  tasks:',
        '    - ansible.builtin.include_role: {name: float-util-config-commit, tasks_from: check.yml}',
        '',
      ].join('\n'),
    });
    writeFileSync(
      join(dir, 'vars.json'),
      JSON.stringify({ float_config_commit_fact: join(dir, 'float.fact'), float_config_dir: repo, float_config_commit: applying, ...vars }),
    );
    const r = spawnSync('ansible-playbook', ['-i', 'localhost,', '-e', `@${join(dir, 'vars.json')}`, join(dir, 'play.yml')], {
      encoding: 'utf8',
      env: { ...process.env, ANSIBLE_ROLES_PATH: join(REPO_ROOT, 'roles'), ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3', ANSIBLE_NOCOLOR: '1' },
    });
    return { status: r.status ?? -1, out: r.stdout + r.stderr };
  }

  it('refuses an older commit, accepts a newer one (the check works)', () => {
    const older = check(c2, c1);
    expect(older.out).toContain(`refusing to apply configuration commit ${c1}`);
    expect(older.status).not.toBe(0);
    const newer = check(c1, c2);
    expect(newer.out).not.toContain('refusing');
    expect(newer.status).toBe(0);
  }, 60_000);

  it('a revision expression (HEAD) is not a commit id: git never resolves it, the run warns instead of refusing', () => {
    const r = check('HEAD', c1);
    expect(r.out).toContain('is recorded as \\"HEAD\\"');
    expect(r.out).toContain('which is not a full commit id; cannot tell whether');
    expect(r.out).not.toContain('refusing');
    expect(r.status).toBe(0);
  }, 60_000);

  it('an option (--output=FILE) never reaches git', () => {
    const dir = writeTree({});
    const file = join(dir, 'written-by-git');
    const r = check(`--output=${file}`, c1);
    expect(r.out).toContain('which is not a full commit id');
    expect(r.status).toBe(0);
    expect(existsSync(file)).toBe(false);
    // The evidence that counts: the only task that runs git was skipped for this value.
    expect(r.out).toMatch(/Check whether this commit is older than the last applied one\] \**\s*\nskipping: \[localhost\]/);
  }, 60_000);

  it('rollback_protection: required refuses what cannot be compared, unless -e rollback=true', () => {
    const bad = check('HEAD~1', c2, { float_rollback_protection: 'required' });
    expect(bad.out).toContain('rollback_protection: required');
    expect(bad.status).not.toBe(0);
    const unknown = check('f'.repeat(40), c2, { float_rollback_protection: 'required' });
    expect(unknown.out).toContain(`(${'f'.repeat(40)}) is not in this repository`);
    expect(unknown.status).not.toBe(0);
    expect(check('f'.repeat(40), c2).status).toBe(0); // auto: a warning
    expect(check('HEAD~1', c2, { float_rollback_protection: 'required', rollback: true }).status).toBe(0);
  }, 120_000);
});
