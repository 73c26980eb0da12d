// The inventory derivations on small models: discovery across several overlays,
// DNS views and output growth, name collisions, traffic routing maps and their
// errors, certificate names.
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateConfig } from '../../bench/gen-config.js';
import { endpointPath } from '../../src/config/schema/service.js';
import { deriveInventory, serverNames } from '../../src/inventory/derive.js';
import { makeContext } from '../../src/inventory/context.js';
import { inventoryFiles } from '../../src/inventory/emit.js';
import type { Inventory } from '../../src/inventory/types.js';
import { plan, tryPlan, type Plan } from '../../src/plan.js';
import { REPO_ROOT, baseTree, writeTree } from '../helpers/tree.js';

function planOf(files: Record<string, string>): Plan {
  return plan(join(writeTree(files), 'config.yml'));
}

function derive(files: Record<string, string>): { p: Plan; inv: Inventory } {
  const p = planOf(files);
  return { p, inv: deriveInventory(p.model, p.schedule) };
}

/** The DNS map a host resolves: the one of the view group it is in. */
function dnsOf(inv: Inventory, host: string): Record<string, string[]> {
  const view = inv.hostGroups[host].find((g) => g.startsWith('float_dns_view_'))!;
  return inv.groupVars[view].float_dns.float_host_dns_map as Record<string, string[]>;
}

function frontendOf(inv: Inventory): Record<string, unknown> {
  return inv.groupVars.frontend.float_frontend;
}

/** Upstream names, without the built-in acme service's challenge route. */
/** Services of services.default.yml with public endpoints (acme's challenges; the admin UIs and dashboard). */
const BUILTIN_PUBLIC = new Set(['acme', 'prometheus', 'alertmanager']);
/** The built-in admin endpoints' names (services.default.yml): monitoring, dashboard, alertmanager. */
const isBuiltinName = (n: string) => /^(monitoring|dashboard|alertmanager)\./.test(n);

function userUpstreams(f: Record<string, unknown>): string[] {
  return (f.float_http_upstreams as Array<{ name: string; service: string }>).filter((u) => !BUILTIN_PUBLIC.has(u.service)).map((u) => u.name);
}
/** The server names of the configuration's own endpoints in one of the frontend's maps. */
const userServers = (m: unknown): string[] => Object.keys(m as object).filter((n) => !isBuiltinName(n)).sort();

const OVERLAYS = baseTree({
  'group_vars/all.yml': [
    'domain: internal.example.com',
    'domain_public: [example.com]',
    'net_overlays:',
    '  - {name: net2, network: 10.2.0.0/16}',
    '  - {name: net1, network: 10.1.0.0/16}',
    '',
  ].join('\n'),
  'hosts.yml': [
    'hosts:',
    '  a:',
    '    ips: [192.0.2.1]',
    '    ip_net1: 10.1.0.1',
    '    ip_net2: 10.2.0.1',
    '    groups: [frontend]',
    '  b:',
    '    ips: [192.0.2.2]',
    '    ip_net2: 10.2.0.2',
    '    ip_net1: 10.1.0.2',
    '    groups: [backend]',
    '  c:',
    '    ips: [192.0.2.3]',
    '    ip_net2: 10.2.0.3',
    '    groups: [backend]',
    '  d:',
    '    ips: [192.0.2.4, "2001:db8::4"]',
    '    groups: [backend]',
    '',
  ].join('\n'),
  'services.yml': 'web:\n  scheduling_group: backend\n  master_election: true\n',
});

describe('service discovery', () => {
  const { p, inv } = derive(OVERLAYS);

  it('resolves through the first shared overlay in sorted order, else ips', () => {
    const a = dnsOf(inv, 'a');
    expect(a['b.host']).toEqual(['10.1.0.2']);
    expect(a['c.host']).toEqual(['10.2.0.3']);
    expect(a['d.host']).toEqual(['192.0.2.4', '2001:db8::4']);
    expect(a['a.host']).toEqual(['10.1.0.1']);
    expect(dnsOf(inv, 'c')['b.host']).toEqual(['10.2.0.2']);
    expect(dnsOf(inv, 'd')['b.host']).toEqual(['192.0.2.2']);
    expect([...a.web].sort()).toEqual(['10.1.0.2', '10.2.0.3', '192.0.2.4', '2001:db8::4']);
    expect(a['web-master']).toEqual(a[`${p.schedule.masters.web}.host`]);
  });

  it('hosts on the same overlays share one view, emitted once', () => {
    const views = Object.keys(inv.groupVars).filter((g) => g.startsWith('float_dns_view_'));
    expect(views).toHaveLength(3); // {net1, net2}, {net2}, {}
    expect(dnsOf(inv, 'a')).toEqual(dnsOf(inv, 'b'));
    for (const h of Object.keys(inv.hostVars)) expect(inv.hostVars[h]).not.toHaveProperty('float_host_dns_map');
  });

  it('the global map lists every host ips and overlay addresses', () => {
    const g = inv.groupVars.all.float.float_global_dns_map as Record<string, string[]>;
    expect(g).toEqual({
      a: ['192.0.2.1'],
      'a.net1': ['10.1.0.1'],
      'a.net2': ['10.2.0.1'],
      b: ['192.0.2.2'],
      'b.net1': ['10.1.0.2'],
      'b.net2': ['10.2.0.2'],
      c: ['192.0.2.3'],
      'c.net2': ['10.2.0.3'],
      d: ['192.0.2.4', '2001:db8::4'],
    });
  });

  it('a host named like a service stays reachable as host.host; the service name resolves to its instances', () => {
    const { inv: inv2 } = derive(
      baseTree({
        'hosts.yml': 'hosts:\n  web:\n    ips: [10.0.0.1]\n    groups: [frontend]\n  b1:\n    ips: [10.0.0.2]\n    groups: [backend]\n',
        'services.yml': 'web:\n  scheduling_group: backend\n',
      }),
    );
    const dns = dnsOf(inv2, 'b1');
    expect(dns.web).toEqual(['10.0.0.2']);
    expect(dns['web.host']).toEqual(['10.0.0.1']);
    expect(dns.b1).toEqual(['10.0.0.2']);
  });
});

describe('output size grows with hosts + instances', () => {
  const size = (hosts: number, services: number) => {
    const dir = generateConfig(hosts, services);
    try {
      const p = plan(join(dir, 'config.yml'));
      const inv = deriveInventory(p.model, p.schedule);
      const files = inventoryFiles(inv);
      const instances = Object.values(p.schedule.assignments).reduce((n, h) => n + h.length, 0);
      let bytes = 0;
      let dnsBytes = 0;
      for (const [path, text] of files) {
        bytes += text.length;
        if (path.includes('float_dns_view_')) dnsBytes += text.length;
      }
      const views = [...files.keys()].filter((f) => f.includes('float_dns_view_')).length;
      return { bytes, dnsBytes, views, instances };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('doubling the fleet about doubles the output (a per-host DNS map would quadruple it)', () => {
    const small = size(100, 40);
    const big = size(200, 40);
    // The generated fleets have two views (on the overlay or not), whatever their size.
    expect(small.views).toBe(2);
    expect(big.views).toBe(2);
    const grow = (big.instances + 200) / (small.instances + 100);
    expect(big.bytes / small.bytes).toBeLessThan(grow * 1.25);
    expect(big.dnsBytes / small.dnsBytes).toBeLessThan(grow * 1.25);
  });
});

const ROUTING = (services: string) =>
  baseTree({
    'group_vars/all.yml': 'domain: internal.example.com\ndomain_public: [example.com, example.org]\n',
    'services.yml': `include: ${REPO_ROOT}/services.default.yml\n${services}`,
  });

describe('traffic routing maps', () => {
  it('paths are /-terminated; endpoints sharing name and port share one upstream', () => {
    const { inv } = derive(
      ROUTING(
        [
          'web:',
          '  scheduling_group: backend',
          '  public_endpoints:',
          '    - {name: www, port: 8080, scheme: http}',
          '    - {name: www, port: 8080, scheme: http, path: /api//}',
          '    - {name: www, port: 8080, scheme: http, path: docs}',
          '    - {name: admin, port: 8081, domains: [admin.example.net]}',
          '',
        ].join('\n'),
      ),
    );
    const f = frontendOf(inv);
    expect(userUpstreams(f)).toEqual(['be_www_8080_web', 'be_admin_8081_web']);
    const endpoints = f.float_http_endpoints as Record<string, Record<string, { upstream: string }>>;
    expect(userServers(endpoints)).toEqual(['admin.example.com', 'admin.example.net', 'admin.example.org', 'www.example.com', 'www.example.org']);
    expect(Object.keys(endpoints['www.example.com']).sort()).toEqual(['/', '/api/', '/docs/']);
    expect(endpoints['admin.example.net']['/'].upstream).toBe('be_admin_8081_web');
    expect(f.float_enable_http_frontend).toBe(true);
    expect(endpointPath(undefined)).toBe('/');
    expect(endpointPath('/a/b')).toBe('/a/b/');
  });

  it('mode http endpoints are also listed for plain HTTP; tls-passthrough ones get SNI routes and stream upstreams', () => {
    const { p, inv } = derive(
      ROUTING(
        [
          'web:',
          '  scheduling_group: backend',
          '  num_instances: 2',
          '  public_endpoints:',
          '    - {name: plain, port: 8080, scheme: http, mode: http}',
          '    - {name: direct, port: 8443, mode: tls-passthrough}',
          '',
        ].join('\n'),
      ),
    );
    const f = frontendOf(inv);
    const targets = p.schedule.assignments.web.map((h) => `${h}.web.internal.example.com`);
    expect(Object.keys(f.float_http_plain_endpoints as object).sort()).toEqual(['plain.example.com', 'plain.example.org']);
    expect(userServers(f.float_http_endpoints)).toEqual(['plain.example.com', 'plain.example.org']);
    expect(f.float_tls_passthrough).toEqual({
      servers: { 'direct.example.com': 'be_direct_8443_web', 'direct.example.org': 'be_direct_8443_web' },
      upstreams: [{ name: 'be_direct_8443_web', service: 'web', port: 8443, scheme: 'tls', targets }],
    });
    expect(userUpstreams(f)).toEqual(['be_plain_8080_web']);
  });

  it('ACME names: terminated HTTP endpoints and other endpoints, not passthrough, not skip_acme', () => {
    const { inv } = derive(
      ROUTING(
        [
          'web:',
          '  scheduling_group: backend',
          '  public_endpoints:',
          '    - {name: www, port: 8080, domains: [shop.example.net]}',
          '    - {name: direct, port: 8443, mode: tls-passthrough}',
          '  public_other_endpoints:',
          '    - {name: chat}',
          'internal:',
          '  scheduling_group: backend',
          '  skip_acme: true',
          '  public_endpoints:',
          '    - {name: admin, port: 9000}',
          '',
        ].join('\n'),
      ),
    );
    const acme = frontendOf(inv).float_acme_certificates as string[];
    expect(acme.filter((n) => !isBuiltinName(n))).toEqual([
      'chat.example.com', 'chat.example.org', 'shop.example.net', 'www.example.com', 'www.example.org',
    ]);
    // The built-in admin endpoints get certificates too, in every public domain.
    expect(acme.filter(isBuiltinName)).toEqual([
      'alertmanager.example.com', 'alertmanager.example.org', 'dashboard.example.com', 'dashboard.example.org', 'monitoring.example.com', 'monitoring.example.org',
    ]);
  });

  it('the built-in admin endpoints: admins only, the dashboard marked for its files; the HTTP frontend runs for them', () => {
    const { inv } = derive(ROUTING('web:\n  scheduling_group: backend\n'));
    const f = frontendOf(inv);
    expect(f.float_enable_http_frontend).toBe(true);
    const endpoints = f.float_http_endpoints as Record<string, Record<string, { service: string; enable_sso_proxy: boolean; dashboard?: boolean; port: number }>>;
    expect(Object.keys(endpoints).sort()).toEqual([
      'alertmanager.example.com', 'alertmanager.example.org', 'dashboard.example.com', 'dashboard.example.org', 'monitoring.example.com', 'monitoring.example.org',
    ]);
    for (const [server, paths] of Object.entries(endpoints)) {
      expect(Object.keys(paths), server).toEqual(['/']);
      expect(paths['/'].enable_sso_proxy, server).toBe(true);
      expect(paths['/'].dashboard ?? false, server).toBe(server.startsWith('dashboard.'));
    }
    expect(endpoints['monitoring.example.com']['/']).toMatchObject({ service: 'prometheus', port: 9090 });
    expect(endpoints['alertmanager.example.com']['/']).toMatchObject({ service: 'alertmanager', port: 9093 });
  });

  it('no public endpoint at all (no services.default.yml): the HTTP frontend is disabled', () => {
    const tree = ROUTING('web:\n  scheduling_group: backend\nfrontend:\n  scheduling_group: frontend\n  num_instances: all\n');
    tree['services.yml'] = tree['services.yml'].replace(/^include: .*\n/, '');
    const { inv } = derive(tree);
    expect(frontendOf(inv).float_enable_http_frontend).toBe(false);
  });

  // These clashes are float check's to find (issue 22): before this, derive threw
  // them in the middle of compile while check said ok. Check refuses them now, with
  // these codes at these positions, and derive never sees them.
  const errorOf = (services: string): string[] => {
    const dir = writeTree(ROUTING(services));
    const { plan, diagnostics } = tryPlan(join(dir, 'config.yml'));
    expect(plan).toBeUndefined();
    return diagnostics.map((d) => `${d.pos!.file.split('/').pop()}:${d.pos!.line} ${d.code} ${d.message.replace(/ (is already defined|clashes with) .*/, ' $1')}`);
  };

  it('a server name + path claimed twice once paths are normalised is a positioned error', () => {
    expect(
      errorOf(
        [
          'a:',
          '  scheduling_group: backend',
          '  public_endpoints:',
          '    - {name: www, port: 8080, path: /api}',
          'b:',
          '  scheduling_group: backend',
          '  public_endpoints:',
          '    - {domains: [www.example.org], port: 8081, path: /x}',
          '    - {domains: [www.example.org], port: 8081, path: /api//}',
          '',
        ].join('\n'),
      ),
    ).toEqual(["services.yml:10 F2002 public endpoint 'www.example.org' path '/api/' is already defined"]);
  });

  it('a passthrough name also served over HTTP, or a horizontal path claimed twice, is a positioned error', () => {
    expect(
      errorOf(
        [
          'a:',
          '  scheduling_group: backend',
          '  public_endpoints:',
          '    - {name: www, port: 8080, path: /app}',
          '  horizontal_endpoints:',
          '    - {path: /.well-known/x, port: 8080}',
          'b:',
          '  scheduling_group: backend',
          '  public_endpoints:',
          '    - {name: www, port: 8443, mode: tls-passthrough}',
          '  horizontal_endpoints:',
          '    - {path: /.well-known/x, port: 8443}',
          '',
        ].join('\n'),
      ),
    ).toEqual([
      "services.yml:11 F2020 public endpoint 'www.example.com' (TLS passthrough) clashes with",
      "services.yml:13 F2021 horizontal endpoint path '/.well-known/x' is already defined",
    ]);
  });
});

describe('per-host variables', () => {
  const { p, inv } = derive(OVERLAYS);

  it('svc-master names are certified on the master only', () => {
    const ctx = makeContext(p.model, p.schedule);
    const web = p.model.services.find((s) => s.name === 'web')!;
    const master = p.schedule.masters.web;
    for (const h of p.model.hosts.filter((x) => p.schedule.assignments.web.includes(x.name))) {
      const { names, ips } = serverNames(ctx, web, h, []);
      expect(names.includes('web-master.internal.example.com')).toBe(h.name === master);
      expect(ips).toEqual(expect.arrayContaining([...h.ips, ...Object.values(h.overlays), '127.0.0.1', '::1']));
    }
  });

  it('flags are host variables on the hosts running the service; globals default them to false', () => {
    const globals = inv.groupVars.all.float;
    expect(globals.float_enable_web).toBe(false);
    expect(globals.float_web_is_master).toBe(false);
    for (const h of ['b', 'c', 'd']) expect(inv.hostVars[h].float_enable_web).toBe(true);
    expect(inv.hostVars.a).not.toHaveProperty('float_enable_web');
    expect(inv.groupVars).not.toHaveProperty('web');
    expect(inv.hostVars[p.schedule.masters.web].float_web_is_master).toBe(true);
  });
});
