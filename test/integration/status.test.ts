// `float status` against a real Prometheus on loopback (its own HTTP API, no mock):
// instances up, down and without metrics, the firing alert, --json, the exit status,
// errors for an unreachable or non-Prometheus URL, and the command `float status`
// runs over SSH on the Prometheus host, run here through sh as sshd would.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plan } from '../../src/plan.js';
import { parseVector, sshQueryArgv } from '../../src/status/prometheus.js';
import { freePort, prometheusMissing, startPrometheus, type TestPrometheus } from '../helpers/prometheus.js';
import { REPO_ROOT, baseTree, writeTree } from '../helpers/tree.js';

const FLOAT = join(REPO_ROOT, 'bin/float.mjs');
const float = (...args: string[]) => spawnSync(process.execPath, [FLOAT, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
const skip = prometheusMissing();
if (skip && process.env.FLOAT_E2E_REQUIRED === '1') throw new Error(`FLOAT_E2E_REQUIRED=1 but ${skip}`);

// web on host2 and host3 (backend, num_instances all); frontend and acme on host1; the
// built-in monitoring and log services on the backends (no metrics for them here).
const SERVICES = `include:\n  - ${JSON.stringify(join(REPO_ROOT, 'services.default.yml'))}\nweb:\n  scheduling_group: backend\n`;

describe.skipIf(skip !== undefined)('float status with a real Prometheus', () => {
  let prom: TestPrometheus;
  let healthy: TestPrometheus;
  let config: string;
  beforeAll(async () => {
    config = join(writeTree(baseTree({ 'services.yml': SERVICES }), 'float-status-'), 'config.yml');
    [prom, healthy] = await Promise.all([
      startPrometheus({ service: 'web', host: 'host2' }, { service: 'web', host: 'host3' }),
      startPrometheus({ service: 'web', host: 'host2.internal.example.com' }),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([prom?.stop(), healthy?.stop()]);
  });

  it('prints each instance up, down or without metrics, and the firing alert; exit 1', () => {
    const r = float('status', '--config', config, '--url', prom.url);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    const lines = r.stdout.split('\n').map((l) => l.split(/\s+/).filter(Boolean).join(' '));
    expect(lines[0]).toBe('SERVICE HOST STATE TARGETS UP');
    expect(lines).toContain('web host2 up 1/1'); // the positive control
    expect(lines).toContain('web host3 down 0/1');
    expect(lines).toContain('frontend host1 unknown -');
    expect(r.stdout).toContain('8 instances: 1 up, 1 down, 6 without metrics');
    expect(r.stdout).toContain('1 alert firing:\n  ServiceInstanceDown  service=web host=host3 severity=page\n');
  });

  it('--json gives the same report as data', () => {
    const r = float('status', '--config', config, '--url', prom.url, '--json');
    expect(r.status).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.services.find((s: { name: string }) => s.name === 'web').instances).toEqual([
      { host: 'host2', state: 'up', targets: 1, targets_up: 1 },
      { host: 'host3', state: 'down', targets: 1, targets_up: 0 },
    ]);
    expect(j.alerts).toHaveLength(1);
    expect(j.alerts[0]).toMatchObject({ alertname: 'ServiceInstanceDown', service: 'web', host: 'host3', severity: 'page' });
    expect(j.summary).toEqual({ instances: 8, up: 1, down: 1, unknown: 6, alerts: 0 + 1 });
  });

  it('exits 0 when every instance with metrics is up and nothing fires (host labels may be FQDNs)', () => {
    const r = float('status', '--config', config, '--url', healthy.url);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.split('\n').map((l) => l.split(/\s+/).filter(Boolean).join(' '))).toContain('web host2 up 1/1');
    expect(r.stdout).toContain('no alerts firing');
  });

  it('reports an unreachable Prometheus, or an answer that is not its API, as F2151 (exit 2, no stack trace)', async () => {
    const port = await freePort();
    const r = float('status', '--config', config, '--url', `http://127.0.0.1:${port}`);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot reach Prometheus at http:\/\/127\.0\.0\.1:\d+.*\[F2151\]/);
    expect(r.stderr).not.toContain('internal error');
    const html = float('status', '--config', config, '--url', `${prom.url}/graph`);
    expect(html.status).toBe(2);
    expect(html.stderr).toContain('[F2151]');
    const bad = float('status', '--config', config, '--url', 'file:///etc/passwd');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('[F2040]');
  });

  it('without --url, needs a host running the Prometheus service (F2152)', () => {
    // Without services.default.yml: no built-in prometheus service.
    const bare = join(writeTree(baseTree({ 'services.yml': 'web:\n  scheduling_group: backend\n' }), 'float-status-bare-'), 'config.yml');
    const r = float('status', '--config', bare);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("no host runs the service 'prometheus'");
    expect(r.stderr).toContain('[F2152]');
  });

  it('the command it runs over SSH queries Prometheus when the remote shell runs it', () => {
    const { model } = plan(config);
    const host1 = model.hosts.find((h) => h.name === 'host1')!;
    const argv = sshQueryArgv(model, host1, prom.port, 'ALERTS{alertstate="firing"}');
    // The host reached as Ansible reaches it (its first address here: no ansible_host).
    expect(argv.slice(0, -1)).toEqual(['ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '--', '10.0.0.1']);
    const r = spawnSync('sh', ['-c', argv[argv.length - 1]], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const v = parseVector(r.stdout, 'test');
    expect(v.map((s) => s.metric.alertname)).toEqual(['ServiceInstanceDown']);
    const up = spawnSync('sh', ['-c', sshQueryArgv(model, host1, prom.port, 'up').at(-1)!], { encoding: 'utf8' });
    expect(parseVector(up.stdout, 'test').map((s) => `${s.metric.host}=${s.value[1]}`).sort()).toEqual(['host2=1', 'host3=0']);
  });
});
