// The float-base-departures role run by Ansible on this machine, with its state,
// credentials and data under a temporary directory (no unit, and the users and
// groups it would remove do not exist here, so nothing outside that directory is
// touched): a service that leaves loses its credentials and manifest, its data is
// kept and reported at every run until it is gone, and repeated runs change nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/tree.js';
import { recap } from '../helpers/local-env.js';

const dir = mkdtempSync(join(tmpdir(), 'float-departures-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const manifest = (svc: string, data: string[]) => ({ service: svc, user: `docker-float-test-${svc}`, credentials: [`ftest-${svc}`], units: [], data, volumes: [] });

function run(enabled: string[]): { status: number; out: string } {
  const manifests = Object.fromEntries(enabled.map((s) => [s, manifest(s, s === 'gone' ? [join(dir, 'data/gone')] : [])]));
  const vars = {
    float_enabled_services: enabled,
    float_enabled_systemd_units: [],
    float_host_service_manifests: manifests,
    float_host_service_credentials: enabled.map((s) => ({ name: `ftest-${s}`, service: s })),
    float_credentials_root: join(dir, 'x509'),
    float_services_state_dir: join(dir, 'services'),
    float_left_behind_dir: join(dir, 'left-behind'),
  };
  writeFileSync(join(dir, 'vars.json'), JSON.stringify(vars));
  writeFileSync(
    join(dir, 'play.yml'),
    JSON.stringify([{ name: 'Departures', hosts: 'localhost', connection: 'local', gather_facts: false, roles: ['float-base-departures'] }]),
  );
  const r = spawnSync('ansible-playbook', ['-i', 'localhost,', '-e', `@${join(dir, 'vars.json')}`, join(dir, 'play.yml')], {
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_ROLES_PATH: join(REPO_ROOT, 'roles'), ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3', ANSIBLE_NOCOLOR: '1' },
  });
  return { status: r.status ?? 1, out: r.stdout + r.stderr };
}

describe('float-base-departures', { timeout: 600_000 }, () => {
  it('records the services here, cleans up after one that leaves, reports its data until it is gone', () => {
    for (const s of ['stay', 'gone']) mkdirSync(join(dir, 'x509', `ftest-${s}`), { recursive: true });
    mkdirSync(join(dir, 'data/gone'), { recursive: true });

    const first = run(['gone', 'stay']);
    expect(first.status, first.out).toBe(0);
    expect(existsSync(join(dir, 'services/gone.json'))).toBe(true);
    expect(first.out).not.toContain('left behind on localhost');

    const again = run(['gone', 'stay']);
    expect(again.status, again.out).toBe(0);
    expect(recap(again.out).localhost.changed, again.out).toBe(0);

    // 'gone' leaves: its credentials and manifest go, its data stays and is reported.
    const left = run(['stay']);
    expect(left.status, left.out).toBe(0);
    expect(left.out).toContain(`left behind on localhost: service gone: ${join(dir, 'data/gone')}`);
    expect(existsSync(join(dir, 'x509/ftest-gone'))).toBe(false);
    expect(existsSync(join(dir, 'x509/ftest-stay'))).toBe(true);
    expect(existsSync(join(dir, 'services/gone.json'))).toBe(false);
    expect(existsSync(join(dir, 'services/stay.json'))).toBe(true);
    expect(existsSync(join(dir, 'data/gone'))).toBe(true);

    // The next run changes nothing and reports it again.
    const next = run(['stay']);
    expect(recap(next.out).localhost.changed, next.out).toBe(0);
    expect(next.out).toContain('left behind on localhost: service gone:');

    // Once the operator removed the data, the record goes and nothing is reported.
    rmSync(join(dir, 'data/gone'), { recursive: true });
    const cleared = run(['stay']);
    expect(cleared.status, cleared.out).toBe(0);
    expect(cleared.out).not.toContain('left behind on localhost');
    expect(existsSync(join(dir, 'left-behind/gone.json'))).toBe(false);
    expect(recap(run(['stay']).out).localhost.changed).toBe(0);
  });

  it('a service back on the host takes its data up again: no more report', () => {
    mkdirSync(join(dir, 'data/gone'), { recursive: true });
    run(['gone', 'stay']);
    expect(run(['stay']).out).toContain('left behind on localhost: service gone:');
    const back = run(['gone', 'stay']);
    expect(back.status, back.out).toBe(0);
    expect(back.out).not.toContain('left behind on localhost');
    expect(existsSync(join(dir, 'left-behind/gone.json'))).toBe(false);
  });
});
