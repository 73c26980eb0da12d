// Central logs, the pure parts: the settings (log_forward_uri, log_keep_days and
// its es_log_keep_days alias, reserved names) as float check reports them, what
// derive hands the roles (collectors, accepted certificate names, the log client
// credential, unit tags, the firewall rule), and the command lines of float logs.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionVars, shellQuote, shellWords, sshArgv } from '../../src/ansible/ssh.js';
import { queryCommand } from '../../src/cli/logs.js';
import { logKeepDays, parseLogForwardUri } from '../../src/config/logs.js';
import { certRequests } from '../../src/credentials/requests.js';
import { deriveInventory } from '../../src/inventory/derive.js';
import type { HostCredential } from '../../src/inventory/types.js';
import { tryPlan, type Plan } from '../../src/plan.js';
import { REPO_ROOT, baseTree, writeTree } from '../helpers/tree.js';

const WITH_DEFAULTS = `include:\n  - ${REPO_ROOT}/services.default.yml\n`;

function attempt(over: Record<string, string>) {
  return tryPlan(join(writeTree(baseTree(over)), 'config.yml'));
}
function planOf(over: Record<string, string>): Plan {
  const a = attempt(over);
  if (!a.plan) throw new Error(a.diagnostics.map((d) => d.message).join('\n'));
  return a.plan;
}
const codes = (over: Record<string, string>) => attempt(over).diagnostics.filter((d) => d.severity === 'error');

describe('log_forward_uri', () => {
  it('accepts udp, tcp and tls receivers with a host name, an IPv4 or a bracketed IPv6 address', () => {
    expect(parseLogForwardUri('udp://logs.example.org:514')).toEqual({ protocol: 'udp', host: 'logs.example.org', port: 514 });
    expect(parseLogForwardUri('tcp://192.0.2.7:1514')).toEqual({ protocol: 'tcp', host: '192.0.2.7', port: 1514 });
    expect(parseLogForwardUri('tls://[2001:db8::1]')).toEqual({ protocol: 'tls', host: '2001:db8::1', port: 6514 });
    expect(parseLogForwardUri('tcp://logs.example.org')).toEqual({ protocol: 'tcp', host: 'logs.example.org', port: 514 });
  });
  it('refuses anything else, saying what it expects', () => {
    for (const bad of ['http://x:1', 'logs.example.org:514', 'tcp://', 'tcp://a b:1', 'tcp://x:0', 'tcp://x:70000', 'tcp://x";evil:1', 'tls://[zz::1]:1', 'tcp://x:1/path']) {
      expect(typeof parseLogForwardUri(bad), bad).toBe('string');
    }
  });
  it('float check reports a bad one at its position (F2131), a good one passes', () => {
    const bad = codes({ 'group_vars/all.yml': 'domain: internal.example.com\ndomain_public: [example.com]\nlog_forward_uri: "tcp://evil\\"host:514"\n' });
    expect(bad.map((d) => d.code)).toEqual(['F2131']);
    expect(bad[0].pos).toMatchObject({ line: 3 });
    expect(codes({ 'group_vars/all.yml': 'domain: internal.example.com\ndomain_public: [example.com]\nlog_forward_uri: tls://logs.example.org:6514\n' })).toEqual([]);
  });
});

describe('retention', () => {
  it('log_keep_days wins; else the longest es_log_keep_days; else 14', () => {
    const g = (x: Record<string, unknown>) => ({ domain: 'd', domain_public: ['p'], ...x }) as Parameters<typeof logKeepDays>[0];
    expect(logKeepDays(g({}))).toBe(14);
    expect(logKeepDays(g({ es_log_keep_days: { audit: 60, logstash: 15, http: 15 } }))).toBe(60);
    expect(logKeepDays(g({ log_keep_days: 3, es_log_keep_days: { audit: 60 } }))).toBe(3);
  });
  it('es_log_keep_days is no longer reported as unimplemented; enable_elasticsearch still is', () => {
    const a = attempt({ 'group_vars/all.yml': 'domain: internal.example.com\ndomain_public: [example.com]\nes_log_keep_days: {logstash: 5}\nenable_elasticsearch: true\n' });
    const warned = a.diagnostics.filter((d) => d.code === 'F2030').map((d) => d.subject);
    expect(warned).toEqual(['enable_elasticsearch']);
  });
  it('log_keep_days must be a positive whole number of days', () => {
    expect(codes({ 'group_vars/all.yml': 'domain: internal.example.com\ndomain_public: [example.com]\nlog_keep_days: 0\n' }).map((d) => d.code)).toEqual(['F1002']);
  });
});

describe('reserved names', () => {
  it("a service or a credential named 'log-client' is refused (F2130)", () => {
    const svc = codes({ 'services.yml': 'log-client:\n  scheduling_group: backend\n' });
    expect(svc.map((d) => d.code)).toContain('F2130');
    const cred = codes({ 'services.yml': 'web:\n  scheduling_group: backend\n  service_credentials:\n    - name: log-client\n' });
    expect(cred.map((d) => d.code)).toEqual(['F2130']);
    expect(cred[0].pos).toMatchObject({ line: 4 });
  });
});

describe('derive', () => {
  const p = planOf({
    'services.yml': `${WITH_DEFAULTS}web:\n  scheduling_group: backend\n  num_instances: 2\n  systemd_services: [web-worker.service]\n  containers:\n    - name: http\n      image: registry.example.com/web:1\n      port: 8080\n`,
    'group_vars/all.yml': 'domain: internal.example.com\ndomain_public: [example.com]\nlog_forward_uri: udp://192.0.2.9\n',
  });
  const inv = deriveInventory(p.model, p.schedule);
  const collector = p.schedule.assignments['log-collector'];

  it('the log-collector service runs once on a backend host, with its server credential', () => {
    expect(collector).toHaveLength(1);
    expect(['host2', 'host3']).toContain(collector[0]);
    expect(inv.hostVars[collector[0]].float_enable_log_collector).toBe(true);
  });

  it('globals: the collector by its instance name, one accepted client name per host, retention, the forward receiver', () => {
    expect(inv.groupVars.all.logs).toEqual({
      float_log_collectors: [{ host: collector[0], name: `${collector[0]}.log-collector.internal.example.com`, port: 6514 }],
      float_log_client_names: ['host1.log-client.internal.example.com', 'host2.log-client.internal.example.com', 'host3.log-client.internal.example.com'],
      float_log_hosts: ['host1', 'host2', 'host3'],
      float_log_keep_days: 14,
      float_log_forward: { protocol: 'udp', host: '192.0.2.9', port: 514 },
    });
  });

  it('every host gets a log-client client certificate named after it, and nothing else', () => {
    for (const h of ['host1', 'host2', 'host3']) {
      const creds = inv.hostVars[h].float_host_service_credentials as HostCredential[];
      const lc = creds.filter((c) => c.name === 'log-client');
      expect(lc).toEqual([expect.objectContaining({ enable_client: true, enable_server: false, client_names: [`${h}.log-client.internal.example.com`] })]);
    }
    const reqs = certRequests(inv).filter((r) => r.id.includes('/log-client/'));
    expect(reqs.map((r) => [r.id, r.kind, r.commonName])).toEqual([
      ['host1/log-client/client', 'client', 'host1.log-client.internal.example.com'],
      ['host2/log-client/client', 'client', 'host2.log-client.internal.example.com'],
      ['host3/log-client/client', 'client', 'host3.log-client.internal.example.com'],
    ]);
    // The collector's server certificate answers to the name clients check.
    const server = certRequests(inv).find((r) => r.id === `${collector[0]}/log-collector/server`)!;
    expect(server.dnsNames).toContain(`${collector[0]}.log-collector.internal.example.com`);
  });

  it('unit and container names map to their service and container', () => {
    // prometheus.service: the built-in monitoring service, scheduled on host2 here.
    expect(inv.hostVars.host2.float_log_units).toEqual({
      'prometheus.service': { service: 'prometheus', container: '' },
      'web-http': { service: 'web', container: 'http' },
      'web-http.service': { service: 'web', container: 'http' },
      'web-worker.service': { service: 'web', container: '' },
    });
    expect(inv.hostVars.host1.float_log_units).toEqual({});
  });

  it('port 6514 is open over TCP only, to the fleet hosts, on the collector only', () => {
    const rule = (h: string) => (inv.hostVars[h].float_host_firewall as Array<{ port: number }>).filter((r) => r.port === 6514);
    expect(rule(collector[0])).toEqual([{ port: 6514, protocols: ['tcp'], service: 'log-collector', reason: 'ports', sources: 'all_hosts' }]);
    expect(rule('host1')).toEqual([]);
  });

  it('without a log collector (services.default.yml not included), no host gets a log client credential', () => {
    const q = planOf({});
    const i = deriveInventory(q.model, q.schedule);
    expect((i.hostVars.host1.float_host_service_credentials as HostCredential[]).map((c) => c.name)).toEqual(['host']);
    expect(i.groupVars.all.logs.float_log_collectors).toEqual([]);
  });
});

describe('float logs command lines', () => {
  it('the remote query quotes every word for the remote shell', () => {
    expect(queryCommand({ host: ['be1'], service: ['web'], since: '10m', json: true }, "it's $(rm -rf /) `x`")).toBe(
      "float-logs-query --host be1 --service web --since 10m --json -- 'it'\\''s $(rm -rf /) `x`'",
    );
    expect(queryCommand({ follow: true }, undefined)).toBe('float-logs-query --follow');
    expect(queryCommand({}, '-v')).toBe('float-logs-query -- -v');
  });
  it('shell words split as a shell would', () => {
    expect(shellWords(`-o StrictHostKeyChecking=no  -o 'ProxyCommand=ssh -W %h:%p bastion' "-o" a\\ b`)).toEqual([
      '-o', 'StrictHostKeyChecking=no', '-o', 'ProxyCommand=ssh -W %h:%p bastion', '-o', 'a b',
    ]);
    expect(() => shellWords("'open")).toThrow(/unterminated/);
    expect(shellQuote('plain-word_1.2')).toBe('plain-word_1.2');
    expect(shellQuote('two words')).toBe("'two words'");
  });
  it('ssh reaches the collector with the host and group connection variables Ansible would use', () => {
    const p = planOf({
      'hosts.yml': [
        'hosts:',
        '  host1:',
        '    ips: [10.0.0.1]',
        '    groups: [backend]',
        '    ansible_host: 192.0.2.1',
        '    ansible_port: 2222',
        'group_vars:',
        '  all:',
        '    ansible_user: admin',
        '    ansible_ssh_private_key_file: keys/id',
        '    ansible_ssh_common_args: "-o StrictHostKeyChecking=no"',
        '',
      ].join('\n'),
    });
    const h = p.model.hosts[0];
    expect(connectionVars(p.model, h)).toMatchObject({ ansible_host: '192.0.2.1', ansible_port: 2222, ansible_user: 'admin' });
    const argv = sshArgv(p.model, h, 'float-logs-query');
    expect(argv).toEqual([
      'ssh', '-o', 'BatchMode=yes', '-p', '2222', '-i', join(p.model.configPath, '..', 'keys/id'), '-o', 'StrictHostKeyChecking=no', '--', 'admin@192.0.2.1', 'float-logs-query',
    ]);
  });
  it("the caller's ssh options come first; ansible_private_key_file is read too, ansible_ssh_private_key_file wins (as in Ansible)", () => {
    const hosts = (keys: string) => planOf({ 'hosts.yml': `hosts:\n  host1:\n    ips: [10.0.0.1]\n    groups: [backend]\n${keys}` });
    const p = hosts('    ansible_private_key_file: /keys/a\n');
    expect(sshArgv(p.model, p.model.hosts[0], 'x', ['-o', 'ConnectTimeout=5'])).toEqual(['ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-i', '/keys/a', '--', '10.0.0.1', 'x']);
    const q = hosts('    ansible_private_key_file: /keys/a\n    ansible_ssh_private_key_file: /keys/b\n');
    expect(sshArgv(q.model, q.model.hosts[0], 'x')).toEqual(['ssh', '-o', 'BatchMode=yes', '-i', '/keys/b', '--', '10.0.0.1', 'x']);
  });
  it('a Jinja connection variable is refused (F2132), not passed to ssh', () => {
    const p = planOf({
      'hosts.yml': 'hosts:\n  host1:\n    ips: [10.0.0.1]\n    groups: [backend]\n    ansible_user: "{{ lookup(\'env\', \'USER\') }}"\n',
    });
    expect(() => sshArgv(p.model, p.model.hosts[0], 'x')).toThrow(/F2132/);
    // Positive control: the same host with a plain value.
    const q = planOf({ 'hosts.yml': 'hosts:\n  host1:\n    ips: [10.0.0.1]\n    groups: [backend]\n    ansible_user: admin\n' });
    expect(sshArgv(q.model, q.model.hosts[0], 'x')).toEqual(['ssh', '-o', 'BatchMode=yes', '--', 'admin@10.0.0.1', 'x']);
  });
});
