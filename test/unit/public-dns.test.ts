// The public DNS records float serves, computed from a small model.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeContext } from '../../src/inventory/context.js';
import { canonicalCompare, publicDnsRecords, publicDnsVars, zoneOf, type DnsRecord } from '../../src/inventory/public-dns.js';
import { plan } from '../../src/plan.js';
import { REPO_ROOT, baseTree, writeTree } from '../helpers/tree.js';

const HOSTS = [
  'hosts:',
  '  fe2:',
  '    ips: [10.0.0.2]',
  '    groups: [frontend]',
  '  fe1:',
  '    ips: [10.0.0.1]',
  '    public_ips: [198.51.100.1, "2001:db8::1"]',
  '    groups: [frontend]',
  '  be1:',
  '    ips: [10.0.0.11]',
  '    groups: [backend]',
  '',
].join('\n');

const SERVICES = [
  `include: ${REPO_ROOT}/services.default.yml`,
  'api:',
  '  scheduling_group: backend',
  '  public_endpoints:',
  '    - {name: api, port: 8080, domains: [X.dev.example.com., other.net]}',
  '  horizontal_endpoints:',
  '    - {path: /status, port: 8081}',
  '  public_tcp_endpoints:',
  '    - {name: smtp, port: 25}',
  'irc:',
  '  scheduling_group: backend',
  '  public_other_endpoints:',
  '    - name: irc',
  'private:',
  '  scheduling_group: backend',
  '  skip_dns: true',
  '  public_endpoints:',
  '    - {name: private, port: 9000}',
  '',
].join('\n');

function ctxOf(over: Record<string, string> = {}) {
  const dir = writeTree(
    baseTree({
      'group_vars/all.yml': 'domain: internal.example.com\ndomain_public: [example.com, dev.example.com]\n',
      'hosts.yml': HOSTS,
      'services.yml': SERVICES,
      ...over,
    }),
  );
  const p = plan(join(dir, 'config.yml'));
  return makeContext(p.model, p.schedule);
}

/** The built-in admin endpoints' names (services.default.yml), left out where a test lists the configuration's own. */
const isBuiltin = (fqdn: string) => /^(monitoring|dashboard|alertmanager)\./.test(fqdn);

const rec = (fqdn: string, type: DnsRecord['type'], value: string, ttl: number, purpose: string): DnsRecord => ({ fqdn, type, value, ttl, purpose });

describe('publicDnsRecords', () => {
  const ctx = ctxOf();
  const all = publicDnsRecords(ctx);
  const records = all.filter((r) => !isBuiltin(r.fqdn));
  const zones = publicDnsVars(ctx).float_dns_zones;
  const serial = (z: string) => zones.find((x) => x.zone === z)!.serial;

  it('serves the nested zone exactly: SOA, ns1..nsN by host name, apex, endpoints inside it', () => {
    const z = 'dev.example.com';
    expect(records.filter((r) => r.fqdn === z || r.fqdn.endsWith(`.${z}`))).toEqual([
      rec(z, 'SOA', `ns1.${z}. hostmaster.${z}. ${serial(z)} 3600 600 1209600 300`, 3600, `start of authority of ${z}`),
      rec(z, 'NS', `ns1.${z}.`, 3600, 'name server on fe1'),
      rec(z, 'NS', `ns2.${z}.`, 3600, 'name server on fe2'),
      rec(z, 'A', '198.51.100.1', 300, 'zone apex via fe1'),
      rec(z, 'A', '10.0.0.2', 300, 'zone apex via fe2'),
      rec(z, 'AAAA', '2001:db8::1', 300, 'zone apex via fe1'),
      rec(`api.${z}`, 'A', '198.51.100.1', 300, 'public endpoint of api via fe1'),
      rec(`api.${z}`, 'A', '10.0.0.2', 300, 'public endpoint of api via fe2'),
      rec(`api.${z}`, 'AAAA', '2001:db8::1', 300, 'public endpoint of api via fe1'),
      rec(`irc.${z}`, 'A', '198.51.100.1', 300, 'other public endpoint of irc via fe1'),
      rec(`irc.${z}`, 'A', '10.0.0.2', 300, 'other public endpoint of irc via fe2'),
      rec(`irc.${z}`, 'AAAA', '2001:db8::1', 300, 'other public endpoint of irc via fe1'),
      rec(`ns1.${z}`, 'A', '198.51.100.1', 3600, 'name server address of fe1'),
      rec(`ns1.${z}`, 'AAAA', '2001:db8::1', 3600, 'name server address of fe1'),
      rec(`ns2.${z}`, 'A', '10.0.0.2', 3600, 'name server address of fe2'),
      // From `domains`, normalised (lower case, no trailing dot), in the most specific zone.
      rec(`x.${z}`, 'A', '198.51.100.1', 300, 'public endpoint of api via fe1'),
      rec(`x.${z}`, 'A', '10.0.0.2', 300, 'public endpoint of api via fe2'),
      rec(`x.${z}`, 'AAAA', '2001:db8::1', 300, 'public endpoint of api via fe1'),
    ]);
  });

  it('the parent zone has its own names only, and every zone starts with SOA then NS', () => {
    const inParent = records.filter((r) => r.fqdn === 'example.com' || (r.fqdn.endsWith('.example.com') && !r.fqdn.endsWith('dev.example.com')));
    expect([...new Set(inParent.map((r) => `${r.fqdn} ${r.type}`))]).toEqual([
      'example.com SOA',
      'example.com NS',
      'example.com A',
      'example.com AAAA',
      'api.example.com A',
      'api.example.com AAAA',
      'irc.example.com A',
      'irc.example.com AAAA',
      'ns1.example.com A',
      'ns1.example.com AAAA',
      'ns2.example.com A',
    ]);
    // The whole list is zone by zone, in domain_public order.
    expect(records[0].fqdn).toBe('example.com');
    expect(all.findIndex((r) => r.fqdn === 'dev.example.com')).toBe(all.filter((r) => r.fqdn === 'example.com' || (r.fqdn.endsWith('.example.com') && !r.fqdn.endsWith('dev.example.com'))).length);
  });

  it('serves the built-in admin endpoints in every zone, via every frontend', () => {
    const names = [...new Set(all.filter((r) => isBuiltin(r.fqdn)).map((r) => `${r.fqdn} ${r.type}`))];
    expect(names.sort()).toEqual(
      ['alertmanager', 'dashboard', 'monitoring'].flatMap((n) => [`${n}.dev.example.com A`, `${n}.dev.example.com AAAA`, `${n}.example.com A`, `${n}.example.com AAAA`]).sort(),
    );
  });

  it('leaves out skip_dns services, horizontal and TCP endpoints, and names outside every zone', () => {
    const names = new Set(records.map((r) => r.fqdn));
    expect([...names].filter((n) => /private|status|smtp|other\.net/.test(n))).toEqual([]);
  });

  it('serves nothing when no host runs the frontend service', () => {
    // Without services.default.yml there is no frontend service; public endpoints
    // would then be refused by float check (F2023), so this fleet has none.
    const none = ctxOf({ 'services.yml': 'api:\n  scheduling_group: backend\n' });
    expect(publicDnsRecords(none)).toEqual([]);
    expect(publicDnsVars(none)).toEqual({ float_dns_zones: [] });
  });
});

describe('publicDnsVars', () => {
  it('gives the role absolute names and the same serial for the same input, a new one when a record changes', () => {
    const a = publicDnsVars(ctxOf());
    expect(publicDnsVars(ctxOf())).toEqual(a);
    const z = a.float_dns_zones[0];
    expect(z.zone).toBe('example.com');
    expect(Number.isInteger(z.serial) && z.serial >= 1 && z.serial < 2 ** 32).toBe(true);
    expect(z.records[0]).toEqual({
      name: 'example.com.',
      ttl: 3600,
      type: 'SOA',
      data: `ns1.example.com. hostmaster.example.com. ${z.serial} 3600 600 1209600 300`,
      purpose: 'start of authority of example.com',
    });
    expect(z.records[1]).toEqual({ name: 'example.com.', ttl: 3600, type: 'NS', data: 'ns1.example.com.', purpose: 'name server on fe1' });
    const moved = publicDnsVars(ctxOf({ 'hosts.yml': HOSTS.replace('198.51.100.1', '198.51.100.9') }));
    expect(moved.float_dns_zones[0].serial).not.toBe(z.serial);
    expect(moved.float_dns_zones[0].records.filter((r) => r.data === '198.51.100.9' && !isBuiltin(r.name)).map((r) => r.name)).toEqual([
      'example.com.',
      'api.example.com.',
      'irc.example.com.',
      'ns1.example.com.',
    ]);
  });
});

describe('zone helpers', () => {
  it('zoneOf picks the longest enclosing zone; canonicalCompare puts the apex first', () => {
    expect(zoneOf(['example.com', 'dev.example.com'], 'a.dev.example.com')).toBe('dev.example.com');
    expect(zoneOf(['example.com', 'dev.example.com'], 'Example.COM.')).toBe('example.com');
    expect(zoneOf(['example.com'], 'notexample.com')).toBeUndefined();
    expect(['b.example.com', 'a.b.example.com', 'example.com', 'a.example.com'].sort(canonicalCompare)).toEqual([
      'example.com',
      'a.example.com',
      'b.example.com',
      'a.b.example.com',
    ]);
  });
});
