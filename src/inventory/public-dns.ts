// The public DNS records float serves: one authoritative zone per `domain_public`,
// answered by the hosts running the `frontend` service. Pure: the same model and
// schedule always give the same records and the same zone serials (no clock).
//
// Each zone holds:
//   - SOA and NS records: ns1..nsN.<zone>, one per frontend host (hosts sorted by name);
//   - the name servers' addresses (A/AAAA from each frontend host's public_ips);
//   - the zone apex pointing at the frontends (as upstream float's `@base` does);
//   - every public endpoint name inside the zone (public_endpoints and
//     public_other_endpoints: `<name>.<zone>` and any of the endpoint's `domains`
//     that fall inside the zone), pointing at the frontends, unless the service
//     sets `skip_dns`. Horizontal endpoints are paths on every name: they add none.
//
// TTLs: endpoint and apex addresses change when frontends move, so they are short
// (ADDRESS_TTL, 300 s); the delegation data (SOA, NS, name server addresses) is
// stable and gets NS_TTL (3600 s). Negative answers are cached SOA_TIMERS.minimum.
import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { Host } from '../config/schema/host.js';
import type { Service } from '../config/schema/service.js';
import { endpointServerNames, type Context } from './context.js';
import { byCodePoint } from './names.js';

const ADDRESS_TTL = 300;
const NS_TTL = 3600;
/** SOA timers. Every frontend is a primary with the same content (no zone transfers),
 * so refresh/retry/expire only matter to resolvers reading them, not to replication. */
const SOA_TIMERS = { refresh: 3600, retry: 600, expire: 1209600, minimum: 300 } as const;

export type DnsRecordType = 'SOA' | 'NS' | 'A' | 'AAAA';

export interface DnsRecord {
  /** Fully qualified name, lower case, without the trailing dot. */
  fqdn: string;
  type: DnsRecordType;
  /** Record data in zone-file presentation form (names absolute, with their trailing dot). */
  value: string;
  ttl: number;
  /** What the record is for, for people reading `float dns` and the zone files. */
  purpose: string;
}

export interface DnsZone {
  zone: string;
  /** Derived from the zone's content: changes exactly when the content does. */
  serial: number;
  /** SOA first, then NS (ns1..nsN), then the rest sorted by name (canonical order: apex first) and type. */
  records: DnsRecord[];
}

/** The hosts running the frontend service, sorted by name: ns1 is the first. */
function frontendHosts(ctx: Context): Host[] {
  return [...(ctx.schedule.assignments['frontend'] ?? [])]
    .sort(byCodePoint)
    .map((n) => ctx.hostsByName.get(n))
    .filter((h): h is Host => h !== undefined);
}

function normalName(name: string): string {
  return name.trim().toLowerCase().replace(/\.+$/, '');
}

/** The zones float serves: domain_public, normalised and deduplicated, in the order written. */
function publicZones(ctx: Context): string[] {
  return [...new Set(ctx.model.globals.domain_public.map(normalName))];
}

/** The zone a name belongs to: the longest zone it is inside (or equal to), if any. */
export function zoneOf(zones: string[], fqdn: string): string | undefined {
  const name = normalName(fqdn);
  let best: string | undefined;
  for (const z of zones) {
    if ((name === z || name.endsWith(`.${z}`)) && (best === undefined || z.length > best.length)) best = z;
  }
  return best;
}

function addressType(ip: string): 'A' | 'AAAA' {
  return isIPv6(ip) ? 'AAAA' : 'A';
}

/** Address records for `fqdn` pointing at every public address of every frontend. */
function pointAtFrontends(fqdn: string, frontends: Host[], ttl: number, purpose: (h: Host) => string): DnsRecord[] {
  return frontends.flatMap((h) => h.public_ips.map((ip) => ({ fqdn, type: addressType(ip), value: ip, ttl, purpose: purpose(h) })));
}

/** Public names of a service that get DNS records: its public and other endpoints. */
function endpointNames(ctx: Context, s: Service): Array<{ fqdn: string; kind: string }> {
  const out: Array<{ fqdn: string; kind: string }> = [];
  for (const e of s.public_endpoints) for (const n of endpointServerNames(ctx, e)) out.push({ fqdn: n, kind: 'public endpoint' });
  for (const e of s.public_other_endpoints) for (const n of endpointServerNames(ctx, e)) out.push({ fqdn: n, kind: 'other public endpoint' });
  return out;
}

const TYPE_ORDER: Record<DnsRecordType, number> = { SOA: 0, NS: 1, A: 2, AAAA: 3 };

/** DNSSEC's canonical name order (RFC 4034 6.1): labels compared from the right, so a zone's apex comes first. */
export function canonicalCompare(a: string, b: string): number {
  const la = a.split('.').reverse();
  const lb = b.split('.').reverse();
  for (let i = 0; i < Math.min(la.length, lb.length); i++) {
    const c = byCodePoint(la[i], lb[i]);
    if (c !== 0) return c;
  }
  return la.length - lb.length;
}

/**
 * Merges records with the same name, type and value (keeping the first one's TTL
 * and joining the purposes), then orders them: SOA, NS, the rest by name (canonical order) and type,
 * values in the order first seen (frontend hosts sorted, each host's addresses as written).
 */
function tidy(records: DnsRecord[]): DnsRecord[] {
  const byKey = new Map<string, DnsRecord>();
  for (const r of records) {
    const key = `${r.fqdn}\u0000${r.type}\u0000${r.value}`;
    const prev = byKey.get(key);
    if (!prev) byKey.set(key, { ...r });
    else if (!prev.purpose.split('; ').includes(r.purpose)) prev.purpose = `${prev.purpose}; ${r.purpose}`;
  }
  const list = [...byKey.values()];
  const rank = (r: DnsRecord) => (r.type === 'SOA' ? 0 : r.type === 'NS' ? 1 : 2);
  return list
    .map((r, i) => ({ r, i }))
    .sort((a, b) => rank(a.r) - rank(b.r) || (rank(a.r) < 2 ? 0 : canonicalCompare(a.r.fqdn, b.r.fqdn)) || TYPE_ORDER[a.r.type] - TYPE_ORDER[b.r.type] || a.i - b.i)
    .map((x) => x.r);
}

/** A 32-bit serial (1..2^32-1) derived from a zone's records: no clock, byte-identical output for the same input. */
function zoneSerial(zone: string, records: DnsRecord[]): number {
  const h = createHash('sha256');
  h.update(zone);
  for (const r of records) h.update(`\n${r.fqdn} ${r.ttl} ${r.type} ${r.value}`);
  const n = h.digest().readUInt32BE(0);
  return n === 0 ? 1 : n;
}

/** Every zone float serves with its records; empty when no host runs the frontend service. */
function publicDnsZones(ctx: Context): DnsZone[] {
  const frontends = frontendHosts(ctx);
  if (frontends.length === 0) return [];
  const zones = publicZones(ctx);
  const byZone = new Map<string, DnsRecord[]>(zones.map((z) => [z, []]));

  for (const z of zones) {
    const out = byZone.get(z)!;
    frontends.forEach((h, i) => {
      const ns = `ns${i + 1}.${z}`;
      out.push({ fqdn: z, type: 'NS', value: `${ns}.`, ttl: NS_TTL, purpose: `name server on ${h.name}` });
      out.push(...pointAtFrontends(ns, [h], NS_TTL, () => `name server address of ${h.name}`));
    });
    out.push(...pointAtFrontends(z, frontends, ADDRESS_TTL, (h) => `zone apex via ${h.name}`));
  }

  for (const s of ctx.model.services) {
    if (s.skip_dns) continue;
    for (const { fqdn, kind } of endpointNames(ctx, s)) {
      const name = normalName(fqdn);
      const z = zoneOf(zones, name);
      if (z === undefined) continue; // a name in a zone float does not serve
      byZone.get(z)!.push(...pointAtFrontends(name, frontends, ADDRESS_TTL, (h) => `${kind} of ${s.name} via ${h.name}`));
    }
  }

  return zones.map((z) => {
    const body = tidy(byZone.get(z)!);
    const serial = zoneSerial(z, body);
    const t = SOA_TIMERS;
    const soa: DnsRecord = {
      fqdn: z,
      type: 'SOA',
      value: `ns1.${z}. hostmaster.${z}. ${serial} ${t.refresh} ${t.retry} ${t.expire} ${t.minimum}`,
      ttl: NS_TTL,
      purpose: `start of authority of ${z}`,
    };
    return { zone: z, serial, records: [soa, ...body] };
  });
}

/** Every record float serves, zone by zone: what `float dns` prints. */
export function publicDnsRecords(ctx: Context): DnsRecord[] {
  return publicDnsZones(ctx).flatMap((z) => z.records);
}

/** One zone-file line's fields, ready for the float-infra-dns role's template. */
export interface ZoneFileRecord {
  /** Absolute name, with the trailing dot. */
  name: string;
  ttl: number;
  type: DnsRecordType;
  data: string;
  purpose: string;
}

/** The float-infra-dns role's input (group_vars of the frontend group). */
export function publicDnsVars(ctx: Context): { float_dns_zones: Array<{ zone: string; serial: number; records: ZoneFileRecord[] }> } {
  return {
    float_dns_zones: publicDnsZones(ctx).map((z) => ({
      zone: z.zone,
      serial: z.serial,
      records: z.records.map((r) => ({ name: `${r.fqdn}.`, ttl: r.ttl, type: r.type, data: r.value, purpose: r.purpose })),
    })),
  };
}
