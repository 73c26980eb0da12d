// float check's view of net_overlays beyond addresses (semantic.ts checks those):
// the overlay's name becomes a network interface name on every member (F2100),
// and a host in an overlay's groups must have been given an address (F2101).
import type { Diagnostic } from './diagnostics.js';
import type { Model } from './load.js';
import { overlayPort, unassignedMembers } from './overlay.js';
import { locate } from './source.js';

/** Linux's limit on interface names (IFNAMSIZ - 1). */
const IFNAME_MAX = 15;
/** Names the kernel or iproute2 read as something else. */
const RESERVED = new Set(['lo', 'all', 'default']);

export function checkOverlays(model: Model): Diagnostic[] {
  const out: Diagnostic[] = [];
  const g = model.sources.globals;
  const seen = new Map<string, number>();
  const ports = new Map<number, string>();
  model.globals.net_overlays.forEach((o, i) => {
    const pos = locate(g, ['net_overlays', i, 'name']);
    if (o.name.length > IFNAME_MAX || RESERVED.has(o.name) || /^[-_]/.test(o.name)) {
      out.push({
        code: 'F2100',
        severity: 'error',
        message: `net_overlays: '${o.name}' cannot be a network interface name (at most ${IFNAME_MAX} characters, not starting with '-' or '_', not lo, all or default)`,
        pos,
        subject: o.name,
      });
    }
    if (seen.has(o.name)) {
      out.push({ code: 'F2100', severity: 'error', message: `net_overlays: overlay '${o.name}' is defined twice (also item ${seen.get(o.name)! + 1})`, pos, subject: o.name });
    } else seen.set(o.name, i);
    const port = overlayPort(o, i);
    const other = ports.get(port);
    if (other !== undefined) {
      out.push({
        code: 'F2100',
        severity: 'error',
        message: `net_overlays: overlay '${o.name}' uses UDP port ${port}, as overlay '${other}' does; give one of them another port`,
        pos: locate(g, ['net_overlays', i, ...(o.port === undefined ? [] : ['port'])]),
        subject: o.name,
      });
    } else ports.set(port, o.name);
    for (const host of unassignedMembers(o, model.hosts)) {
      out.push({
        code: 'F2101',
        severity: 'error',
        message: `host '${host}' is in a group of overlay '${o.name}' but has no ip_${o.name}: run 'float overlay assign' to write one into the hosts file`,
        pos: locate(model.sources.hosts, ['hosts', host], { key: true }),
        subject: host,
      });
    }
  });
  return out;
}
