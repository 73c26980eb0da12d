// The private network (net_overlays): address arithmetic on IPv4 and IPv6
// networks, overlay membership, the default UDP port, and the deterministic
// assignment of missing addresses. Pure: no I/O (src/cli/overlay.ts writes
// hosts.yml).
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { collapseIPv6Number, IPv4, IPv6 } from 'ip-num';
import type { NetOverlay } from './schema/globals.js';
import type { Host } from './schema/host.js';

export interface Ip {
  family: 4 | 6;
  value: bigint;
}

export interface Cidr {
  family: 4 | 6;
  /** The network address (host bits cleared). */
  base: bigint;
  prefix: number;
}

const bits = (family: 4 | 6) => (family === 4 ? 32 : 128);

/** An address node:net's isIP accepts (an IPv6 zone, `%eth0`, is not part of the value). */
export function parseIp(s: string): Ip | undefined {
  const family = isIP(s);
  if (family === 4) return { family, value: IPv4.fromDecimalDottedString(s).getValue() };
  if (family === 6) return { family, value: IPv6.fromString(s.replace(/%.*$/, '')).getValue() };
  return undefined;
}

/** IPv4 dotted decimal; IPv6 lower case, compressed as RFC 5952 says. */
export function formatIp(ip: Ip): string {
  return ip.family === 4 ? new IPv4(ip.value).toString() : collapseIPv6Number(new IPv6(ip.value).toString());
}

export function parseCidr(s: string): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const ip = parseIp(m[1]);
  const prefix = Number(m[2]);
  if (!ip || prefix > bits(ip.family)) return undefined;
  const hostBits = BigInt(bits(ip.family) - prefix);
  return { family: ip.family, base: (ip.value >> hostBits) << hostBits, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp({ family: c.family, value: c.base })}/${c.prefix}`;
}

export function cidrContains(c: Cidr, ip: Ip): boolean {
  if (c.family !== ip.family) return false;
  const hostBits = BigInt(bits(c.family) - c.prefix);
  return ip.value >> hostBits === c.base >> hostBits;
}

/**
 * The addresses hosts may get on a network: all but the network address (and, on
 * IPv4, the broadcast address), except in /31, /32, /127 and /128 networks.
 */
export function usableRange(c: Cidr): { first: bigint; last: bigint } {
  const size = 1n << BigInt(bits(c.family) - c.prefix);
  const last = c.base + size - 1n;
  if (size <= 2n) return { first: c.base, last };
  return { first: c.base + 1n, last: c.family === 4 ? last - 1n : last };
}

/** The overlay's UDP port: `port` when written, else 51820 + its index in net_overlays. */
export function overlayPort(o: NetOverlay, index: number): number {
  return o.port ?? 51820 + index;
}

/** Whether a host belongs in an overlay by its groups (the overlay's `groups`; `all` is every host). */
export function inOverlayGroups(o: NetOverlay, h: Pick<Host, 'groups'>): boolean {
  const groups = o.groups ?? [];
  return groups.includes('all') || h.groups.some((g) => groups.includes(g));
}

/** Hosts in the overlay's groups without an address on it: `float overlay assign` gives them one. */
export function unassignedMembers(o: NetOverlay, hosts: Array<Pick<Host, 'name' | 'groups' | 'overlays'>>): string[] {
  return hosts.filter((h) => inOverlayGroups(o, h) && h.overlays[o.name] === undefined).map((h) => h.name);
}

export interface Assignment {
  host: string;
  overlay: string;
  address: string;
}

export interface AssignResult {
  assigned: Assignment[];
  /** One message per overlay that cannot take every host that needs an address. */
  errors: Array<{ overlay: string; hosts: string[]; message: string }>;
}

/** Where a host's search starts: a hash of overlay and host name, in [0, size). */
function startOffset(overlay: string, host: string, size: bigint): bigint {
  const digest = createHash('sha256').update(`${overlay}\u0000${host}`).digest('hex');
  return BigInt(`0x${digest}`) % size;
}

/**
 * Addresses for the hosts in an overlay's groups that have none: each host's search
 * starts at a hash of its name and probes upwards (wrapping) to the first address no
 * host holds. Existing addresses never change and are never reused; hosts are taken
 * in name order, so the result depends only on the configuration, and a host's
 * address does not depend on which other hosts were added in the same step unless
 * their searches meet.
 */
export function assignAddresses(overlays: NetOverlay[], hosts: Array<Pick<Host, 'name' | 'groups' | 'overlays'>>): AssignResult {
  const assigned: Assignment[] = [];
  const errors: AssignResult['errors'] = [];
  for (const o of overlays) {
    const net = parseCidr(o.network);
    const want = unassignedMembers(o, hosts).sort();
    if (!net || want.length === 0) continue;
    const { first, last } = usableRange(net);
    const size = last - first + 1n;
    const used = new Set<bigint>();
    for (const h of hosts) {
      const ip = h.overlays[o.name] !== undefined ? parseIp(h.overlays[o.name]) : undefined;
      if (ip && cidrContains(net, ip)) used.add(ip.value);
    }
    const free = size - BigInt([...used].filter((v) => v >= first && v <= last).length);
    if (free < BigInt(want.length)) {
      errors.push({
        overlay: o.name,
        hosts: want,
        message: `overlay '${o.name}' (${formatCidr(net)}) has ${free} free address${free === 1n ? '' : 'es'} for ${want.length} host${want.length === 1 ? '' : 's'} without one (${want.join(', ')}): use a larger network`,
      });
      continue;
    }
    for (const host of want) {
      let off = startOffset(o.name, host, size);
      while (used.has(first + off)) off = (off + 1n) % size;
      used.add(first + off);
      assigned.push({ host, overlay: o.name, address: formatIp({ family: net.family, value: first + off }) });
    }
  }
  return { assigned, errors };
}
