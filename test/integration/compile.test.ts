// Compiles configurations and checks the result as Ansible itself resolves it.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { deriveInventory } from '../../src/inventory/derive.js';
import { emitInventory } from '../../src/inventory/emit.js';
import { REPO_ROOT, writeTree } from '../helpers/tree.js';

const THREE_HOSTS = {
  'config.yml': 'plugin: float\n',
  'group_vars/all/config.yml':
    'domain: internal.example.com\ndomain_public: [example.com, example.org]\nnet_overlays:\n  - {name: vpn0, network: 172.16.0.0/24}\nmy_custom_var: 42\n',
  'hosts.yml': [
    'hosts:',
    '  fe1:',
    '    ips: [10.10.0.10]',
    '    public_ips: [203.0.113.10]',
    '    ip_vpn0: 172.16.0.10',
    '    groups: [frontend]',
    '  be1:',
    '    ips: [10.10.0.11]',
    '    ip_vpn0: 172.16.0.11',
    '    groups: [backend]',
    '    shard_id: s1',
    '  be2:',
    '    ips: [10.10.0.12]',
    '    groups: [backend]',
    '    ansible_user: admin',
    'group_vars:',
    '  backend:',
    '    backend_var: yes',
    '',
  ].join('\n'),
  'services.yml': [
    `include: ${REPO_ROOT}/services.default.yml`,
    'web-app:',
    '  scheduling_group: backend',
    '  num_instances: 1',
    '  master_election: true',
    '  service_credentials:',
    '    - name: web-app',
    '      extra_san: [alias]',
    '  containers:',
    '    - name: http',
    '      image: localhost/busybox:latest',
    '      port: 8080',
    '  public_endpoints:',
    '    - name: www',
    '      port: 8080',
    '      scheme: http',
    '  monitoring_endpoints:',
    '    - port: 8080',
    'db:',
    '  scheduling_group: backend',
    '  ports: [5432]',
    '  systemd_services: [postgresql.service]',
    '  public_tcp_endpoints:',
    '    - {name: pg, port: 5432, public_port: 15432, use_proxy_protocol: true}',
    '',
  ].join('\n'),
};

function ansibleInventory(dir: string): { _meta: { hostvars: Record<string, Record<string, unknown>> } } & Record<string, { hosts?: string[]; children?: string[] }> {
  return JSON.parse(execFileSync('ansible-inventory', ['-i', dir, '--list'], { encoding: 'utf8', env: { ...process.env, ANSIBLE_INVENTORY_ENABLED: 'yaml' } }));
}

/** A variable as Ansible templates it on a host (runs the debug module locally). */
function ansibleVar(dir: string, host: string, name: string): unknown {
  const out = execFileSync('ansible', ['-i', dir, host, '-c', 'local', '-m', 'debug', '-a', `var=${name}`, '-o'], {
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3', ANSIBLE_LOAD_CALLBACK_PLUGINS: '0' },
  });
  const json = out.slice(out.indexOf('{'));
  return JSON.parse(json)[name];
}

function hostsOf(inv: ReturnType<typeof ansibleInventory>, group: string): string[] {
  return [...(inv[group]?.hosts ?? [])].sort();
}

describe('float compile, checked with ansible-inventory', () => {
  const dir = writeTree(THREE_HOSTS);
  const r = compile(join(dir, 'config.yml'));
  const inv = ansibleInventory(r.outDir);
  const hv = inv._meta.hostvars;
  const webHost = r.plan.schedule.assignments['web-app'][0];

  it('writes the inventory next to config.yml', () => {
    expect(r.outDir).toBe(join(dir, '.float/inventory'));
  });

  it('groups: inventory groups, overlays, service groups', () => {
    expect(hostsOf(inv, 'frontend')).toEqual(['fe1']);
    expect(hostsOf(inv, 'backend')).toEqual(['be1', 'be2']);
    expect(hostsOf(inv, 'overlay_vpn0')).toEqual(['be1', 'fe1']);
    expect(hostsOf(inv, 'net_overlay')).toEqual(['be1', 'fe1']);
    expect(hostsOf(inv, 'web_app')).toEqual([webHost]);
    expect(hostsOf(inv, 'db')).toEqual(['be1', 'be2']);
  });

  it('host variables: own, normalised and derived', () => {
    expect(hv.fe1.public_ips).toEqual(['203.0.113.10']);
    expect(hv.be1.public_ips).toEqual(['10.10.0.11']);
    expect(hv.be2.ansible_user).toBe('admin');
    expect(hv.be1.backend_var).toBe(true);
    expect(hv.fe1.my_custom_var).toBe(42);
    expect(hv[webHost].float_enable_web_app).toBe(true);
    expect(hv.fe1.float_enable_web_app).toBe(false);
    expect(hv[webHost].float_instance_index_web_app).toBe(0);
    expect(hv.be1.float_instance_index_db).toBe(0);
    expect(hv.be2.float_instance_index_db).toBe(1);
    expect(hv[webHost].float_web_app_is_master).toBe(true);
    expect(hv.fe1.float_web_app_is_master).toBe(false);
    expect(hv[webHost].float_enabled_services).toEqual(['db', 'web-app']);
    expect(hv[webHost].float_enabled_containers).toEqual([
      { service: 'web-app', tag: 'web-app-http', container: expect.objectContaining({ name: 'http', image: 'localhost/busybox:latest', port: 8080 }) },
    ]);
    expect(hv.fe1.float_host_overlay_networks).toEqual([{ name: 'vpn0', network: '172.16.0.0/24', port: 655, address: '172.16.0.10' }]);
  });

  it('globals: services enriched, assignments, masters', () => {
    const services = hv.fe1.services as Record<string, Record<string, unknown>>;
    expect(services['web-app']).toMatchObject({
      name: 'web-app',
      group_name: 'web_app',
      user: 'docker-web-app',
      hosts: [webHost],
      master_host: webHost,
      systemd_units: ['web-app-http.service'],
    });
    expect(hv.fe1.float_service_assignments).toEqual(r.plan.schedule.assignments);
    expect(hv.fe1.float_service_masters).toEqual({ 'web-app': webHost });
    expect(hv.fe1.float_http_endpoints_by_port).toEqual({
      '8080': [{ service: 'web-app', name: 'www', scheme: 'http', server_names: ['www.example.com', 'www.example.org'] }],
    });
  });

  it('DNS map: overlay addresses between hosts sharing an overlay, ips otherwise', () => {
    const fe = hv.fe1.float_host_dns_map as Record<string, string[]>;
    const be2 = hv.be2.float_host_dns_map as Record<string, string[]>;
    expect(fe.be1).toEqual(['172.16.0.11']);
    expect(fe.be2).toEqual(['10.10.0.12']);
    expect(be2.be1).toEqual(['10.10.0.11']);
    expect(fe.db.sort()).toEqual(['10.10.0.12', '172.16.0.11']);
    expect(fe['be1.db']).toEqual(['172.16.0.11']);
    expect(fe['s1.db']).toEqual(['172.16.0.11']);
    expect(fe['web-app-master']).toEqual(fe[webHost]);
  });

  it('credentials: server names and addresses as the reference lists, default client credential', () => {
    const creds = hv[webHost].float_host_service_credentials as Array<Record<string, unknown>>;
    const web = creds.find((c) => c.name === 'web-app')!;
    expect(web.server_names).toEqual(
      expect.arrayContaining([
        'web-app.internal.example.com',
        'web-app',
        `${webHost}.web-app.internal.example.com`,
        `${webHost}.web-app`,
        `${webHost}.internal.example.com`,
        'localhost',
        'alias.internal.example.com',
      ]),
    );
    expect(web.client_names).toEqual(['web-app', 'web-app.internal.example.com']);
    expect(creds.find((c) => c.name === 'host')).toMatchObject({ enable_client: true, enable_server: false });
    expect((hv.fe1.float_host_service_credentials as Array<{ name: string }>).map((c) => c.name)).toEqual(['frontend', 'host']);
  });

  it('frontend variables: upstreams, endpoints, TCP', () => {
    expect(hv.fe1.float_http_upstreams).toEqual([
      { name: 'be_www_8080_web_app', service: 'web-app', port: 8080, scheme: 'http', targets: [`${webHost}.web-app.internal.example.com`] },
    ]);
    expect(Object.keys(hv.fe1.float_http_endpoints as object).sort()).toEqual(['www.example.com', 'www.example.org']);
    expect(hv.fe1.float_tcp_endpoints).toEqual([
      { name: 'pg', service: 'db', port: 5432, public_port: 15432, use_proxy_protocol: true, targets: ['be1.db.internal.example.com', 'be2.db.internal.example.com'] },
    ]);
  });

  it('firewall data: ports from all hosts, endpoint ports from frontends, address sets emitted once', () => {
    const rules = hv.be1.float_host_firewall as Array<{ port: number; reason: string; sources: string }>;
    expect(rules.find((x) => x.port === 5432 && x.reason === 'ports')!.sources).toBe('all_hosts');
    expect(rules.find((x) => x.port === 5432 && x.reason === 'public_endpoint')!.sources).toBe('frontends');
    expect(rules.find((x) => x.port === 8080 && x.reason === 'monitoring')?.sources ?? 'scrapers').toBe('scrapers');
    expect(hv.be1.float_firewall_sets).toEqual({
      all_hosts: { v4: ['10.10.0.10', '10.10.0.11', '10.10.0.12', '172.16.0.10', '172.16.0.11'], v6: [] },
      frontends: { v4: ['10.10.0.10', '172.16.0.10'], v6: [] },
      scrapers: { v4: [], v6: [] },
    });
  });

  it('lists Ansible computes: disabled services and systemd units', () => {
    expect(ansibleVar(r.outDir, 'fe1', 'float_disabled_services')).toEqual(['db', 'web-app']);
    expect(ansibleVar(r.outDir, 'fe1', 'float_disabled_systemd_units')).toEqual(['postgresql.service', 'web-app-http.service']);
    const other = webHost === 'be1' ? 'be2' : 'be1';
    expect(ansibleVar(r.outDir, other, 'float_disabled_systemd_units')).toEqual(['web-app-http.service']);
    expect(ansibleVar(r.outDir, webHost, 'float_disabled_services')).toEqual(['frontend']);
  });
});

function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

describe('emit', () => {
  it('is deterministic: two compiles give byte-identical trees', () => {
    const dir = writeTree(THREE_HOSTS);
    const a = readTree(compile(join(dir, 'config.yml'), { out: join(dir, 'a') }).outDir);
    const b = readTree(compile(join(dir, 'config.yml'), { out: join(dir, 'b') }).outDir);
    expect(Object.keys(a).length).toBeGreaterThan(5);
    expect(b).toEqual(a);
  });

  it('a failed write leaves the previous inventory intact', () => {
    const dir = writeTree(THREE_HOSTS);
    const first = compile(join(dir, 'config.yml'));
    const before = readTree(first.outDir);
    const changed = { ...first.inventory, hostVars: { ...first.inventory.hostVars, fe1: { changed: true } } };
    let n = 0;
    expect(() =>
      emitInventory(changed, first.outDir, {
        afterWrite: () => {
          if (++n === 3) throw new Error('disk full');
        },
      }),
    ).toThrow('disk full');
    expect(readTree(first.outDir)).toEqual(before);
    expect(readdirSync(join(dir, '.float'))).toEqual(['inventory']);
  });

  it('the reference examples compile and ansible-inventory accepts them', () => {
    const root = join(REPO_ROOT, 'test/fixtures/reference');
    for (const name of readdirSync(root)) {
      const out = writeTree({});
      const r = compile(join(root, name, 'config.yml'), { out: join(out, 'inv') });
      const inv = ansibleInventory(r.outDir);
      expect(Object.keys(inv._meta.hostvars).sort()).toEqual(r.plan.model.hosts.map((h) => h.name).sort());
    }
  });

  it('derive is pure: same input, equal output', () => {
    const dir = writeTree(THREE_HOSTS);
    const r = compile(join(dir, 'config.yml'));
    expect(deriveInventory(r.plan.model, r.plan.schedule)).toEqual(r.inventory);
  });
});
