// The private network's inventory data (net_overlays, WireGuard): per host, the
// overlays it is on with its address and the overlay's port; once for all hosts,
// each overlay's members as peers (endpoint and allowed IPs), so the inventory
// grows with hosts, not hosts squared; and the firewall's address set of each
// overlay's members. Pure.
import { overlayPort, parseCidr, parseIp } from '../config/overlay.js';
import type { Host } from '../config/schema/host.js';
import type { Context } from './context.js';
import { byCodePoint } from './names.js';
import type { Vars } from './types.js';

export interface OverlayPeer {
  host: string;
  /** The peer's public address and the overlay's port: `192.0.2.1:51820`, `[2001:db8::1]:51820`. */
  endpoint: string;
  /** The peer's overlay address as a single-address network (/32 or /128). */
  allowed_ips: string[];
}

/** The overlays in net_overlays order, each with its port resolved. */
function overlays(ctx: Context) {
  return ctx.model.globals.net_overlays.map((o, i) => ({ ...o, port: overlayPort(o, i), cidr: parseCidr(o.network) }));
}

function members(ctx: Context, name: string): Host[] {
  return ctx.model.hosts.filter((h) => h.overlays[name] !== undefined).sort((a, b) => byCodePoint(a.name, b.name));
}

function endpoint(h: Host, port: number): string {
  const addr = h.public_ips[0] ?? h.ips[0];
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** `float_overlay_peers` (global): overlay -> every member as a WireGuard peer, sorted by host. */
export function overlayPeers(ctx: Context): Record<string, OverlayPeer[]> {
  const out: Record<string, OverlayPeer[]> = {};
  for (const o of overlays(ctx)) {
    out[o.name] = members(ctx, o.name).map((h) => {
      const ip = parseIp(h.overlays[o.name]);
      return { host: h.name, endpoint: endpoint(h, o.port), allowed_ips: [`${h.overlays[o.name]}/${ip?.family === 6 ? 128 : 32}`] };
    });
  }
  return out;
}

/** `float_overlays` (per host): the overlays this host is on, with its address on each. */
export function hostOverlays(ctx: Context, h: Host): Vars[] {
  return overlays(ctx)
    .filter((o) => h.overlays[o.name] !== undefined)
    .map((o) => ({
      name: o.name,
      interface: o.name,
      network: o.network,
      address: h.overlays[o.name],
      prefix: o.cidr?.prefix ?? 32,
      port: o.port,
      persistent_keepalive: o.persistent_keepalive ?? 0,
    }));
}

/**
 * Firewall address sets `overlay_<name>_members`: the members' own addresses
 * (ips and public_ips), from which WireGuard packets arrive and from which
 * service traffic must not (it goes over the overlay instead).
 */
export function overlayFirewallSets(ctx: Context): Record<string, { v4: string[]; v6: string[] }> {
  const out: Record<string, { v4: string[]; v6: string[] }> = {};
  for (const o of overlays(ctx)) {
    const all = [...new Set(members(ctx, o.name).flatMap((h) => [...h.ips, ...h.public_ips]))].sort(byCodePoint);
    out[`overlay_${o.name}_members`] = { v4: all.filter((a) => !a.includes(':')), v6: all.filter((a) => a.includes(':')) };
  }
  return out;
}
