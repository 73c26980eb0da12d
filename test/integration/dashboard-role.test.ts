// float-infra-dashboard with ansible-playbook on this machine (connection local,
// the compiled inventory as it is, the target directory in a temp dir): the rendered
// site is copied readable by www-data only, a second run changes nothing, pages of
// removed services are deleted (and only reported in --check), and a missing site is
// an error naming float run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { renderDashboard } from '../../src/dashboard/site.js';
import { plan } from '../../src/plan.js';
import { baseTree, REPO_ROOT, writeTree } from '../helpers/tree.js';

const missing = spawnSync('ansible-playbook', ['--version']).status === 0 ? undefined : 'ansible-playbook is not installed';
const notRoot = process.getuid?.() === 0 ? undefined : 'needs root (files owned by root:www-data)';
const www = spawnSync('getent', ['group', 'www-data']).status === 0 ? undefined : 'no www-data group';
const skip = missing ?? notRoot ?? www;
if (skip && process.env.FLOAT_E2E_REQUIRED === '1') throw new Error(`FLOAT_E2E_REQUIRED=1 but ${skip}`);

const SERVICES = `include:\n  - ${JSON.stringify(join(REPO_ROOT, 'services.default.yml'))}\nweb:\n  scheduling_group: backend\n  public_endpoints:\n    - name: www\n      port: 8080\n`;

describe.skipIf(skip !== undefined)('the float-infra-dashboard role', () => {
  let cfg: string;
  let inv: string;
  let target: string;
  let play: string;
  beforeAll(() => {
    cfg = writeTree(baseTree({ 'services.yml': SERVICES }), 'float-dashboard-role-');
    inv = join(cfg, '.float', 'inventory');
    target = join(mkdtempSync(join(tmpdir(), 'float-dashboard-www-')), 'float-dashboard');
    play = join(cfg, 'play.yml');
    writeFileSync(play, '- name: Dashboard\n  hosts: frontend\n  gather_facts: false\n  roles:\n    - float-infra-dashboard\n');
    compile(join(cfg, 'config.yml'));
  });

  const run = (...extra: string[]) => {
    const r = spawnSync(
      'ansible-playbook',
      ['-i', inv, '-c', 'local', '-e', `float_dashboard_dir=${target}`, '-e', `float_dashboard_state_dir=${target}-state`, '-e', 'ansible_python_interpreter=/usr/bin/python3', ...extra, play],
      {
        encoding: 'utf8',
        env: { ...process.env, ANSIBLE_ROLES_PATH: join(REPO_ROOT, 'roles'), ANSIBLE_INVENTORY_ENABLED: 'yaml', ANSIBLE_NOCOLOR: '1' },
      },
    );
    const changed = /changed=(\d+)/.exec(r.stdout)?.[1];
    return { ...r, changed: changed === undefined ? -1 : Number(changed) };
  };

  it('copies the site readable by www-data only; a second run changes nothing', () => {
    const r = run();
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.changed).toBeGreaterThan(0);
    const index = join(target, 'index.html');
    expect(readFileSync(index, 'utf8')).toBe(renderDashboard(plan(join(cfg, 'config.yml')).model, plan(join(cfg, 'config.yml')).schedule).get('index.html'));
    expect(statSync(index).mode & 0o777).toBe(0o640);
    expect(statSync(index).gid).toBe(33);
    expect(statSync(target).mode & 0o777).toBe(0o750);
    expect(statSync(join(target, 'services')).mode & 0o777).toBe(0o750);
    expect(statSync(join(target, 'services', 'web.html')).gid).toBe(33);
    expect(existsSync(join(target, 'services', 'web.html'))).toBe(true);
    expect(existsSync(join(target, 'hosts', 'host2.html'))).toBe(true);
    expect(statSync(`${target}-state/dashboard.tar`).mode & 0o777).toBe(0o600);
    const again = run();
    expect(again.status, again.stdout).toBe(0);
    expect(again.changed, again.stdout).toBe(0);
    // A site removed on the host is unpacked again.
    rmSync(target, { recursive: true });
    const restore = run();
    expect(restore.status, restore.stdout).toBe(0);
    expect(existsSync(index)).toBe(true);
  }, 120_000);

  it('removes pages of a service that is gone (reported only in --check), keeping the others', () => {
    writeFileSync(join(cfg, 'services.yml'), `include:\n  - ${JSON.stringify(join(REPO_ROOT, 'services.default.yml'))}\n`);
    compile(join(cfg, 'config.yml'));
    const check = run('--check');
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.changed).toBeGreaterThan(0);
    expect(existsSync(join(target, 'services', 'web.html'))).toBe(true);
    const r = run();
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(existsSync(join(target, 'services', 'web.html'))).toBe(false);
    expect(existsSync(join(target, 'services', 'frontend.html'))).toBe(true);
    expect(run().changed).toBe(0);
  }, 120_000);

  it('refuses to run without a rendered site, naming float run', () => {
    const r = run('-e', `float_dashboard_archive=${join(mkdtempSync(join(tmpdir(), 'float-empty-')), 'none.tar')}`);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('no rendered dashboard');
    expect(r.stdout).toContain('float run');
  }, 120_000);
});
