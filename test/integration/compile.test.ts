// Compiles configurations and checks the result as Ansible itself resolves it:
// `ansible-inventory --list` for the inventory, `ansible -m debug` for the
// variables Ansible templates (float_disabled_services, float_disabled_systemd_units).
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, type Compiled } from '../../src/compile.js';
import { deriveInventory } from '../../src/inventory/derive.js';
import { groupName } from '../../src/inventory/names.js';
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
    '    - name: www',
    '      port: 8080',
    '      scheme: http',
    '      path: /api',
    '  horizontal_endpoints:',
    '    - {path: /.well-known/web, port: 8080}',
    '  monitoring_endpoints:',
    '    - port: 8080',
    'db:',
    '  scheduling_group: backend',
    '  ports: [5432]',
    '  systemd_services: [postgresql.service]',
    '  public_tcp_endpoints:',
    '    - {name: pg, port: 5432, public_port: 15432, use_proxy_protocol: true}',
    '    - {name: pg-replica, port: 5433}',
    '  public_other_endpoints:',
    '    - {name: db-admin}',
    '# A service named like an inventory group: its group is the union of both.',
    'backend:',
    '  scheduling_group: backend',
    '  num_instances: 1',
    '  systemd_services: [backend-agent.service]',
    'prometheus:',
    '  scheduling_group: frontend',
    '  systemd_services: [prometheus.service]',
    '',
  ].join('\n'),
};

type AnsibleInventory = { _meta: { hostvars: Record<string, Record<string, unknown>> } } & Record<string, { hosts?: string[]; children?: string[] }>;

/** The built-in services with admin-only public endpoints (services.default.yml), and those endpoints' names. */
const ADMIN_UIS = new Set(['prometheus', 'alertmanager']);
const isAdminUiName = (n: string) => /^(monitoring|dashboard|alertmanager)\./.test(n);

function ansibleInventory(dir: string): AnsibleInventory {
  return JSON.parse(execFileSync('ansible-inventory', ['-i', dir, '--list'], { encoding: 'utf8', env: { ...process.env, ANSIBLE_INVENTORY_ENABLED: 'yaml' } }));
}

/** Variables as Ansible templates them, on every host (one ad-hoc debug run). */
function ansibleVars(dir: string, names: string[]): Record<string, Record<string, unknown>> {
  const expr = `[${names.join(',')}]`;
  const out = execFileSync('ansible', ['all', '-i', dir, '-c', 'local', '-m', 'debug', '-a', `var=${expr}`, '-o'], {
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3', ANSIBLE_LOAD_CALLBACK_PLUGINS: '0' },
  });
  const result: Record<string, Record<string, unknown>> = {};
  for (const line of out.split('\n').filter((l) => l.includes(' | SUCCESS => '))) {
    const host = line.slice(0, line.indexOf(' | '));
    const values = JSON.parse(line.slice(line.indexOf('{')))[expr] as unknown[];
    result[host] = Object.fromEntries(names.map((n, i) => [n, values[i]]));
  }
  return result;
}

function hostsOf(inv: AnsibleInventory, group: string): string[] {
  return [...(inv[group]?.hosts ?? [])].sort();
}

/**
 * An independent statement of the discovery rule, to check the compiled maps
 * against: the target's address on the first (sorted) overlay both hosts are on,
 * else the target's ips.
 */
function expectedAddress(r: Compiled, viewer: string, target: string): string[] {
  const hosts = new Map(r.plan.model.hosts.map((h) => [h.name, h]));
  const v = hosts.get(viewer)!;
  const t = hosts.get(target)!;
  const shared = Object.keys(v.overlays).filter((n) => n in t.overlays).sort();
  return shared.length > 0 ? [t.overlays[shared[0]]] : t.ips;
}

/** Checks every derived per-host variable of a compiled configuration against its schedule, as Ansible sees it. */
function checkAgainstSchedule(r: Compiled, inv: AnsibleInventory, templated: Record<string, Record<string, unknown>>): void {
  const { model, schedule } = r.plan;
  const hv = inv._meta.hostvars;
  const domain = model.globals.domain;
  expect(Object.keys(hv).sort()).toEqual(model.hosts.map((h) => h.name).sort());
  const inventoryGroups = new Set(model.hosts.flatMap((h) => h.groups));
  for (const h of model.hosts) {
    const vars = hv[h.name];
    const here = model.services.filter((s) => (schedule.assignments[s.name] ?? []).includes(h.name));
    expect(vars.float_enabled_services).toEqual(here.map((s) => s.name));
    expect(templated[h.name].float_disabled_services).toEqual(
      model.services.filter((s) => !here.includes(s)).map((s) => s.name).sort(),
    );
    const enabledUnits = new Set(here.flatMap((s) => [...s.systemd_services, ...s.containers.map((c) => `${s.name}-${c.name}.service`)]));
    const disabledUnits = new Set(
      model.services.filter((s) => !here.includes(s)).flatMap((s) => [...s.systemd_services, ...s.containers.map((c) => `${s.name}-${c.name}.service`)]),
    );
    expect(templated[h.name].float_disabled_systemd_units).toEqual([...disabledUnits].filter((u) => !enabledUnits.has(u)).sort());
    expect(vars.float_enabled_containers).toEqual(
      here.flatMap((s) => s.containers.map((c) => ({ service: s.name, tag: `${s.name}-${c.name}`, container: expect.objectContaining({ name: c.name, image: c.image }) }))),
    );
    expect(vars.float_host_overlay_networks).toEqual(Object.keys(h.overlays).sort());
    for (const s of model.services) {
      const g = groupName(s.name);
      const hosts = schedule.assignments[s.name] ?? [];
      expect(vars[`float_enable_${g}`], `${h.name} float_enable_${g}`).toBe(hosts.includes(h.name));
      expect(vars[`float_instance_index_${g}`]).toBe(hosts.includes(h.name) ? hosts.indexOf(h.name) : undefined);
      if (s.master_election) expect(vars[`float_${g}_is_master`]).toBe(schedule.masters[s.name] === h.name);
      else expect(vars).not.toHaveProperty(`float_${g}_is_master`);
      // The service's group holds its hosts (plus an inventory group of the same name).
      if (!inventoryGroups.has(g)) expect(hostsOf(inv, g)).toEqual([...hosts].sort());
      else expect(hostsOf(inv, g)).toEqual(expect.arrayContaining(hosts));
    }
    // Service discovery, as this host sees it.
    const dns = vars.float_host_dns_map as Record<string, string[]>;
    for (const t of model.hosts) expect(dns[`${t.name}.host`], `${h.name}: ${t.name}.host`).toEqual(expectedAddress(r, h.name, t.name));
    for (const s of model.services) {
      const hosts = schedule.assignments[s.name] ?? [];
      for (const t of hosts) expect(dns[`${t}.${s.name}`]).toEqual(expectedAddress(r, h.name, t));
      if (hosts.length > 0) expect([...dns[s.name]].sort()).toEqual([...new Set(hosts.flatMap((t) => expectedAddress(r, h.name, t)))].sort());
      else expect(dns).not.toHaveProperty(s.name);
      const master = schedule.masters[s.name];
      if (master) expect(dns[`${s.name}-master`]).toEqual(expectedAddress(r, h.name, master));
      else expect(dns).not.toHaveProperty(`${s.name}-master`);
      for (const t of model.hosts.filter((x) => x.shard_id !== undefined && hosts.includes(x.name))) {
        expect(dns[`${t.shard_id}.${s.name}`]).toEqual(expectedAddress(r, h.name, t.name));
      }
    }
    // Credentials: the reference's names and addresses for each server credential here.
    const creds = vars.float_host_service_credentials as Array<Record<string, unknown>>;
    for (const s of here) {
      for (const c of s.service_credentials) {
        const got = creds.find((x) => x.name === c.name && x.service === s.name)!;
        expect(got).toMatchObject({ enable_client: c.enable_client, enable_server: c.enable_server });
        expect(got.client_names).toEqual(expect.arrayContaining([c.name, `${c.name}.${domain}`]));
        expect(got.server_names).toEqual(
          expect.arrayContaining([
            `${s.name}.${domain}`,
            s.name,
            `${h.name}.${s.name}.${domain}`,
            `${h.name}.${s.name}`,
            `${h.name}.${domain}`,
            'localhost',
            ...(h.shard_id !== undefined ? [`${h.shard_id}.${s.name}.${domain}`] : []),
            ...c.extra_san.map((x) => `${x}.${domain}`),
          ]),
        );
        expect(got.server_ips).toEqual(expect.arrayContaining([...h.public_ips, ...Object.values(h.overlays), '127.0.0.1']));
      }
    }
    // The host's own client credentials: `host`, and `log-client` when a log collector runs.
    const hostCreds = (schedule.assignments['log-collector'] ?? []).length > 0 ? ['host', 'log-client'] : ['host'];
    expect(creds.filter((c) => c.service === '').map((c) => c.name)).toEqual(hostCreds);
  }
}

describe('float compile on a 3-host frontend/backend example, checked with Ansible', () => {
  const dir = writeTree(THREE_HOSTS);
  const r = compile(join(dir, 'config.yml'));
  const inv = ansibleInventory(r.outDir);
  const templated = ansibleVars(r.outDir, ['float_disabled_services', 'float_disabled_systemd_units']);
  const hv = inv._meta.hostvars;
  const webHost = r.plan.schedule.assignments['web-app'][0];
  const otherBe = webHost === 'be1' ? 'be2' : 'be1';

  it('writes the inventory next to config.yml', () => {
    expect(r.outDir).toBe(join(dir, '.float/inventory'));
  });

  it('every derived variable agrees with the schedule, as Ansible resolves it', () => {
    checkAgainstSchedule(r, inv, templated);
  });

  it('groups: inventory groups, overlays, net_overlay, service groups, DNS views', () => {
    expect(hostsOf(inv, 'frontend')).toEqual(['fe1']);
    expect(hostsOf(inv, 'backend')).toEqual(['be1', 'be2']);
    expect(hostsOf(inv, 'overlay_vpn0')).toEqual(['be1', 'fe1']);
    expect(hostsOf(inv, 'net_overlay')).toEqual(['be1', 'fe1']);
    expect(hostsOf(inv, 'web_app')).toEqual([webHost]);
    expect(hostsOf(inv, 'db')).toEqual(['be1', 'be2']);
    expect(hostsOf(inv, 'prometheus')).toEqual(['fe1']);
    // Hosts on the same overlays share one DNS view.
    expect(hostsOf(inv, 'float_dns_view_0')).toEqual(['be2']);
    expect(hostsOf(inv, 'float_dns_view_1')).toEqual(['be1', 'fe1']);
  });

  it('host variables: own, normalised, from groups', () => {
    expect(hv.fe1.public_ips).toEqual(['203.0.113.10']);
    expect(hv.be1.public_ips).toEqual(['10.10.0.11']);
    expect(hv.be2.ansible_user).toBe('admin');
    expect(hv.be1.backend_var).toBe(true);
    expect(hv.fe1.my_custom_var).toBe(42);
    expect(hv.be1.float_plugin_loaded).toBe(true);
  });

  it('per-service flags: enable, instance index, master only where master-elected', () => {
    expect(hv[webHost].float_enable_web_app).toBe(true);
    expect(hv[otherBe].float_enable_web_app).toBe(false);
    expect(hv.fe1.float_enable_web_app).toBe(false);
    expect(hv[webHost].float_instance_index_web_app).toBe(0);
    expect(hv.be1.float_instance_index_db).toBe(0);
    expect(hv.be2.float_instance_index_db).toBe(1);
    expect(hv[webHost].float_web_app_is_master).toBe(true);
    expect(hv.fe1.float_web_app_is_master).toBe(false);
    expect(hv.be1).not.toHaveProperty('float_db_is_master');
    // `backend` (a service) runs on one of the two hosts of `backend` (a group).
    const agent = r.plan.schedule.assignments.backend[0];
    expect(hv[agent].float_enable_backend).toBe(true);
    expect(hv[agent === 'be1' ? 'be2' : 'be1'].float_enable_backend).toBe(false);
    expect(hv[webHost].float_enabled_containers).toEqual([
      { service: 'web-app', tag: 'web-app-http', container: expect.objectContaining({ name: 'http', image: 'localhost/busybox:latest', port: 8080 }) },
    ]);
    expect(hv.fe1.float_host_overlay_networks).toEqual(['vpn0']);
    expect(hv.be2.float_host_overlay_networks).toEqual([]);
  });

  it('lists Ansible computes: disabled services and systemd units', () => {
    // alertmanager and prober: float's built-in monitoring services, on the backends.
    expect(templated.fe1.float_disabled_services).toEqual(['alertmanager', 'backend', 'db', 'log-collector', 'prober', 'web-app']);
    expect(templated.fe1.float_disabled_systemd_units).toEqual([
      'backend-agent.service',
      'postgresql.service',
      'prometheus-alertmanager.service',
      'prometheus-blackbox-exporter.service',
      'web-app-http.service',
    ]);
    expect(templated[webHost].float_disabled_services).toEqual(expect.arrayContaining(['frontend', 'prometheus']));
    expect(templated[otherBe].float_disabled_systemd_units).toContain('web-app-http.service');
    expect(templated[otherBe].float_disabled_systemd_units).not.toContain('postgresql.service');
  });

  it('globals: services enriched, assignments, masters, global DNS map, endpoints by port', () => {
    const services = hv.fe1.services as Record<string, Record<string, unknown>>;
    expect(services['web-app']).toMatchObject({
      name: 'web-app',
      group_name: 'web_app',
      user: 'docker-web-app',
      hosts: [webHost],
      master_host: webHost,
      systemd_units: ['web-app-http.service'],
    });
    expect(services.db).not.toHaveProperty('master_host');
    expect(services.db.systemd_services).toEqual(['postgresql.service']);
    expect(hv.fe1.float_service_assignments).toEqual(r.plan.schedule.assignments);
    expect(hv.fe1.float_service_masters).toEqual({ 'web-app': webHost });
    expect(hv.be2.float_global_dns_map).toEqual({
      fe1: ['10.10.0.10'],
      'fe1.vpn0': ['172.16.0.10'],
      be1: ['10.10.0.11'],
      'be1.vpn0': ['172.16.0.11'],
      be2: ['10.10.0.12'],
    });
    const byPort = hv.fe1.float_http_endpoints_by_port as Record<string, unknown[]>;
    expect(byPort['8080']).toEqual([
      { service: 'web-app', name: 'www', path: '/', scheme: 'http', server_names: ['www.example.com', 'www.example.org'] },
      { service: 'web-app', name: 'www', path: '/api/', scheme: 'http', server_names: ['www.example.com', 'www.example.org'] },
    ]);
    // Besides, the built-in admin endpoints: Prometheus' (monitoring, dashboard) and Alertmanager's.
    expect(Object.keys(byPort).sort()).toEqual(['8080', '9090', '9093']);
  });

  it('DNS map: overlay addresses between hosts sharing an overlay, ips otherwise', () => {
    const fe = hv.fe1.float_host_dns_map as Record<string, string[]>;
    const be2 = hv.be2.float_host_dns_map as Record<string, string[]>;
    expect(fe['be1.host']).toEqual(['172.16.0.11']);
    expect(fe.be1).toEqual(['172.16.0.11']);
    expect(fe['be2.host']).toEqual(['10.10.0.12']);
    expect(be2['be1.host']).toEqual(['10.10.0.11']);
    expect(be2['fe1.host']).toEqual(['10.10.0.10']);
    expect([...fe.db].sort()).toEqual(['10.10.0.12', '172.16.0.11']);
    expect([...be2.db].sort()).toEqual(['10.10.0.11', '10.10.0.12']);
    expect(fe['be1.db']).toEqual(['172.16.0.11']);
    expect(fe['s1.db']).toEqual(['172.16.0.11']);
    expect(be2['s1.db']).toEqual(['10.10.0.11']);
    expect(fe['web-app-master']).toEqual(fe[`${webHost}.host`]);
    expect(hv.be1.float_host_dns_map).toEqual(fe);
    // Emitted once per view, never per host.
    for (const h of ['fe1', 'be1', 'be2']) expect(readFileSync(join(r.outDir, 'host_vars', h, 'float.yml'), 'utf8')).not.toContain('float_host_dns_map');
  });

  it('credentials: server names and addresses as the reference lists, master names, default client credential', () => {
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
        'web-app-master.internal.example.com',
      ]),
    );
    expect((web.server_names as string[])[0]).toBe('web-app.internal.example.com');
    if (webHost === 'be1') expect(web.server_names).toContain('s1.web-app.internal.example.com');
    expect(web.server_ips).toEqual(expect.arrayContaining([...(hv[webHost].public_ips as string[]), '127.0.0.1', '::1']));
    expect(web.client_names).toEqual(['web-app', 'web-app.internal.example.com']);
    expect(creds.find((c) => c.name === 'host')).toMatchObject({
      enable_client: true,
      enable_server: false,
      client_names: [`${webHost}.internal.example.com`, webHost],
    });
    expect((hv.fe1.float_host_service_credentials as Array<{ name: string }>).map((c) => c.name)).toEqual(['acme', 'frontend', 'prometheus', 'host', 'log-client']);
  });

  it('frontend variables: upstreams, endpoints, horizontal, TCP, other, only on the frontend group', () => {
    const targets = [`${webHost}.web-app.internal.example.com`];
    expect(hv.fe1.float_enable_http_frontend).toBe(true);
    expect(hv.be1).not.toHaveProperty('float_enable_http_frontend');
    const acmeUpstream = { name: 'be_.well-known_acme-challenge_5004_acme', service: 'acme', port: 5004, scheme: 'http', targets: ['fe1.acme.internal.example.com'] };
    expect((hv.fe1.float_http_upstreams as Array<{ service: string }>).filter((u) => !ADMIN_UIS.has(u.service))).toEqual([
      acmeUpstream,
      { name: 'be_www_8080_web-app', service: 'web-app', port: 8080, scheme: 'http', targets },
      { name: 'be_.well-known_web_8080_web-app', service: 'web-app', port: 8080, scheme: 'http', targets },
    ]);
    const endpoints = hv.fe1.float_http_endpoints as Record<string, Record<string, Record<string, unknown>>>;
    expect(Object.keys(endpoints).filter((n) => !isAdminUiName(n)).sort()).toEqual(['www.example.com', 'www.example.org']);
    expect(Object.keys(endpoints['www.example.org']).sort()).toEqual(['/', '/api/']);
    expect(endpoints['www.example.com']['/api/']).toMatchObject({ upstream: 'be_www_8080_web-app', service: 'web-app', port: 8080, scheme: 'http', autoconfig: true });
    expect(hv.fe1.float_http_horizontal_endpoints).toEqual({
      '/.well-known/acme-challenge': { upstream: acmeUpstream.name, service: 'acme', port: 5004, scheme: 'http' },
      '/.well-known/web': { upstream: 'be_.well-known_web_8080_web-app', service: 'web-app', port: 8080, scheme: 'http' },
    });
    const dbTargets = ['be1.db.internal.example.com', 'be2.db.internal.example.com'];
    expect(hv.fe1.float_tcp_endpoints).toEqual([
      { name: 'pg', service: 'db', port: 5432, public_port: 15432, use_proxy_protocol: true, targets: dbTargets },
      { name: 'pg-replica', service: 'db', port: 5433, public_port: 5433, use_proxy_protocol: false, targets: dbTargets },
    ]);
    expect(hv.fe1.float_other_endpoints).toEqual([
      { name: 'db-admin', service: 'db', server_names: ['db-admin.example.com', 'db-admin.example.org'], skip_acme: false, skip_dns: false },
    ]);
    expect(hv.fe1.float_tls_passthrough).toEqual({ servers: {}, upstreams: [] });
    expect(hv.fe1.float_http_plain_endpoints).toEqual({});
  });

  it('firewall data: ports from all hosts, endpoint ports from frontends, monitoring from prometheus hosts', () => {
    const rules = (h: string) => hv[h].float_host_firewall as Array<{ port: number; protocols: string[]; reason: string; sources: string; service: string }>;
    expect(rules('be1').filter((x) => x.service === 'db')).toEqual([
      { port: 5432, protocols: ['tcp', 'udp'], service: 'db', reason: 'ports', sources: 'all_hosts' },
      { port: 5432, protocols: ['tcp'], service: 'db', reason: 'public_endpoint', sources: 'frontends' },
      { port: 5433, protocols: ['tcp'], service: 'db', reason: 'public_endpoint', sources: 'frontends' },
    ]);
    expect(rules(webHost).filter((x) => x.service === 'web-app')).toEqual([
      { port: 8080, protocols: ['tcp'], service: 'web-app', reason: 'public_endpoint', sources: 'frontends' },
      { port: 8080, protocols: ['tcp'], service: 'web-app', reason: 'monitoring', sources: 'scrapers' },
    ]);
    // Container ports stay local; on the frontend only the built-in acme service opens ports.
    expect(rules('fe1')).toEqual([
      // The ACME export (public certificates with their keys) answers the frontends only.
      { port: 5005, protocols: ['tcp'], service: 'acme', reason: 'frontends_only', sources: 'frontends' },
      { port: 5004, protocols: ['tcp'], service: 'acme', reason: 'public_endpoint', sources: 'frontends' },
      // Prometheus (here on fe1): its admin endpoints (UI, dashboard queries) to the frontends.
      { port: 9090, protocols: ['tcp'], service: 'prometheus', reason: 'public_endpoint', sources: 'frontends' },
      // Prometheus itself, node-exporter, and the frontend's nginx and haproxy metrics: to the prometheus hosts.
      { port: 9090, protocols: ['tcp'], service: 'prometheus', reason: 'monitoring', sources: 'scrapers' },
      { port: 9100, protocols: ['tcp'], service: 'node-exporter', reason: 'monitoring', sources: 'scrapers' },
      { port: 9113, protocols: ['tcp'], service: 'frontend', reason: 'monitoring', sources: 'scrapers' },
      { port: 8405, protocols: ['tcp'], service: 'frontend', reason: 'monitoring', sources: 'scrapers' },
    ]);
    expect(hv.be1.float_firewall_sets).toEqual({
      all_hosts: { v4: ['10.10.0.10', '10.10.0.11', '10.10.0.12', '172.16.0.10', '172.16.0.11'], v6: [] },
      frontends: { v4: ['10.10.0.10', '172.16.0.10'], v6: [] },
      scrapers: { v4: ['10.10.0.10', '172.16.0.10'], v6: [] },
      // The members' own addresses (WireGuard endpoints), by overlay.
      overlay_vpn0_members: { v4: ['10.10.0.10', '10.10.0.11', '203.0.113.10'], v6: [] },
    });
  });

  it('derive is pure: same input, equal output', () => {
    expect(deriveInventory(r.plan.model, r.plan.schedule)).toEqual(r.inventory);
  });
});

describe('the reference examples, checked with Ansible', () => {
  const root = join(REPO_ROOT, 'test/fixtures/reference');
  const compiled = new Map<string, { r: Compiled; inv: AnsibleInventory; templated: Record<string, Record<string, unknown>> }>();
  const get = (name: string) => {
    if (!compiled.has(name)) {
      const r = compile(join(root, name, 'config.yml'), { out: join(writeTree({}), 'inv') });
      compiled.set(name, { r, inv: ansibleInventory(r.outDir), templated: ansibleVars(r.outDir, ['float_disabled_services', 'float_disabled_systemd_units']) });
    }
    return compiled.get(name)!;
  };

  for (const name of readdirSync(root).sort()) {
    it(`${name}: every derived variable agrees with the schedule`, () => {
      const { r, inv, templated } = get(name);
      checkAgainstSchedule(r, inv, templated);
    });
  }

  it('simple-http: one host serving ok behind the frontend', () => {
    const { inv, templated } = get('simple-http');
    const h = inv._meta.hostvars.host1;
    expect(hostsOf(inv, 'ok')).toEqual(['host1']);
    expect(hostsOf(inv, 'backend')).toEqual(['host1']);
    expect(h.name).toBe('host1');
    expect(h.ips).toEqual(['1.2.3.4']);
    expect(h.float_enable_ok).toBe(true);
    expect(h.float_instance_index_ok).toBe(0);
    expect(h.float_enabled_containers).toEqual([{ service: 'ok', tag: 'ok-http', container: expect.objectContaining({ port: 3100, env: { PORT: 3100 } }) }]);
    expect(h.float_enable_http_frontend).toBe(true);
    expect((h.float_http_upstreams as Array<{ service: string }>).filter((u) => u.service !== 'acme' && !ADMIN_UIS.has(u.service))).toEqual([{ name: 'be_ok_3100_ok', service: 'ok', port: 3100, scheme: 'http', targets: ['host1.ok.internal.example.com'] }]);
    expect(Object.keys(h.float_http_endpoints as object).filter((n) => !isAdminUiName(n))).toEqual(['ok.example.com']);
    expect((h.float_http_endpoints as Record<string, object>)['ok.example.com']).toHaveProperty('/');
    expect((h.float_host_dns_map as Record<string, string[]>)['host1.ok']).toEqual(['1.2.3.4']);
    expect((h.float_host_firewall as Array<{ service: string }>).filter((r) => r.service === 'ok')).toEqual([{ port: 3100, protocols: ['tcp'], service: 'ok', reason: 'public_endpoint', sources: 'frontends' }]);
    expect(templated.host1.float_disabled_services).toEqual([]);
  });

  it('udp: videoconf on its own group, no HTTP, no firewall rules', () => {
    const { inv, templated } = get('udp');
    const hv = inv._meta.hostvars;
    expect(hostsOf(inv, 'videoconf')).toEqual(['host2']);
    expect(hv.host2.float_enable_videoconf).toBe(true);
    expect(hv.host1.float_enable_videoconf).toBe(false);
    // No HTTP endpoint of its own: the frontend serves only the built-in admin endpoints.
    expect(Object.keys(hv.host1.float_http_endpoints as object).length).toBeGreaterThan(0);
    expect(Object.keys(hv.host1.float_http_endpoints as object).filter((n) => !isAdminUiName(n))).toEqual([]);
    // Only float's monitoring opens ports there (node-exporter, to the prometheus hosts).
    expect((hv.host2.float_host_firewall as Array<{ service: string }>).filter((r) => r.service === 'videoconf')).toEqual([]);
    expect(templated.host1.float_disabled_services).toEqual(['videoconf']);
    expect(templated.host1.float_disabled_systemd_units).toEqual(['videoconf-http.service']);
    expect((hv.host1.float_host_dns_map as Record<string, string[]>).videoconf).toEqual(['2.3.4.5']);
  });

  it('vagrant-inventory: group variables and legacy ip normalised', () => {
    const { inv } = get('vagrant-inventory');
    const hv = inv._meta.hostvars;
    expect(hostsOf(inv, 'vagrant')).toEqual(['host1', 'host2']);
    expect(hv.host2).toMatchObject({ ansible_user: 'vagrant', ansible_become: true, ips: ['192.168.10.11'], public_ips: ['192.168.10.11'] });
    expect(hv.host1.float_enable_frontend).toBe(true);
    expect(hv.host2.float_enable_frontend).toBe(false);
  });

  it('include-override: the override of num_instances is scheduled', () => {
    const { r, inv } = get('include-override');
    expect(r.plan.schedule.assignments.foo).toHaveLength(2);
    expect(hostsOf(inv, 'foo')).toEqual([...r.plan.schedule.assignments.foo].sort());
    expect(hostsOf(inv, 'foo-hosts')).toEqual(['a', 'b', 'c']);
  });

  it('myservice-ansible: systemd unit masked where not scheduled, server-only credential', () => {
    const { r, inv, templated } = get('myservice-ansible');
    const on = r.plan.schedule.assignments.myservice;
    const off = r.plan.model.hosts.map((h) => h.name).filter((h) => !on.includes(h));
    expect(on).toHaveLength(2);
    const own = (h: string) => (templated[h].float_disabled_systemd_units as string[]).filter((u) => u.startsWith('myservice'));
    for (const h of off) expect(own(h)).toEqual(['myservice.service']);
    for (const h of on) expect(own(h)).toEqual([]);
    const cred = (inv._meta.hostvars[on[0]].float_host_service_credentials as Array<Record<string, unknown>>).find((c) => c.name === 'myservice');
    expect(cred).toMatchObject({ enable_client: false, enable_server: true });
  });

  it('myservice-containers: one tag and unit per container', () => {
    const { inv } = get('myservice-containers');
    const h = inv._meta.hostvars.host2;
    expect((h.float_enabled_containers as Array<{ tag: string }>).map((c) => c.tag)).toEqual(['myservice-myapp', 'myservice-redis']);
    expect((h.services as Record<string, { systemd_units: string[] }>).myservice.systemd_units).toEqual([
      'myservice-myapp.service',
      'myservice-redis.service',
    ]);
  });
});

describe('the float compile command', () => {
  const run = (args: string[]) =>
    spawnSync(process.execPath, [join(REPO_ROOT, 'bin/float.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

  it('compiles into --out and reports what it wrote', () => {
    const dir = writeTree(THREE_HOSTS);
    const out = join(dir, 'elsewhere');
    const p = run(['compile', '--config', join(dir, 'config.yml'), '--out', out]);
    // Only the warnings about attributes no role acts on yet, if any.
    expect(p.stderr.split('\n').filter((l) => l && !l.endsWith(' [F2030]'))).toEqual([]);
    expect(p.status).toBe(0);
    expect(p.stdout).toMatch(new RegExp(`^compiled 9 services on 3 hosts into ${out} \\(\\d+ files, \\d+ ms\\)\\n$`));
    expect(Object.keys(ansibleInventory(out)._meta.hostvars).sort()).toEqual(['be1', 'be2', 'fe1']);
  });

  it('an --out the file system refuses is a user error (exit 2), not a crash', () => {
    const dir = writeTree({ ...THREE_HOSTS, 'file.txt': 'x\n' });
    const p = run(['compile', '--config', join(dir, 'config.yml'), '--out', join(dir, 'file.txt', 'inv')]);
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/^error: cannot write the inventory to .*file\.txt\/inv: E[A-Z]+: .* \[F2042\]\n$/);
  });

  it('a server name + path claimed twice after expansion is a positioned error (exit 2), nothing written', () => {
    const dir = writeTree({
      ...THREE_HOSTS,
      'services.yml': `${THREE_HOSTS['services.yml']}other:\n  scheduling_group: backend\n  public_endpoints:\n    - {domains: [www.example.org], port: 9090}\n`,
    });
    const p = run(['compile', '--config', join(dir, 'config.yml')]);
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/services\.yml:\d+:\d+: error: public endpoint 'www\.example\.org' path '\/' is already defined at .*services\.yml:\d+:\d+ \[F2002\]/);
    expect(readdirSync(dir)).not.toContain('.float');
  });
});
