// Checks of the host lifecycle settings: the Debian release, the mail relay and
// service volumes (their sizes, their names on a host, and how much of the volume
// group the schedule commits on each host). Pure: positions come from the sources.
import type { Diagnostic } from './diagnostics.js';
import type { Model } from './load.js';
import type { Service } from './schema/service.js';
import { at, locate } from './source.js';
import { svcPos } from './positions.js';
import { candidateHosts, knownGroups } from './semantic.js';

/** The Debian releases float writes APT sources for (deb822, with a <dist>-security suite). */
export const DEBIAN_DISTS = ['bookworm', 'trixie'] as const;

/** An LVM size as lvcreate -L takes it: a number, optionally with a unit (k, m, g, t; MiB without). */
const LVM_SIZE = /^([0-9]+(?:\.[0-9]+)?)([kKmMgGtT]?)$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const JINJA = /\{\{[\s\S]*\}\}/;

/** Bytes of an LVM size, or undefined when it is not one. */
export function lvmBytes(size: string | number): number | undefined {
  const m = LVM_SIZE.exec(String(size).trim());
  if (!m) return undefined;
  const unit = { '': 2 ** 20, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Number(m[1]) * unit;
}

function human(bytes: number): string {
  const units: Array<[string, number]> = [['T', 2 ** 40], ['G', 2 ** 30], ['M', 2 ** 20], ['k', 2 ** 10]];
  for (const [u, n] of units) if (bytes >= n) return `${Number((bytes / n).toFixed(2))}${u}`;
  return `${bytes}B`;
}

function checkDebianDist(model: Model): Diagnostic[] {
  const d = model.globals.float_debian_dist;
  if (!at(model.sources.globals, ['float_debian_dist'])) return [];
  if ((DEBIAN_DISTS as readonly string[]).includes(d) || JINJA.test(d)) return [];
  return [
    {
      code: 'F2160',
      severity: 'error',
      message: `float_debian_dist '${d}' is not a Debian release float manages: use one of ${DEBIAN_DISTS.join(', ')}`,
      pos: locate(model.sources.globals, ['float_debian_dist']),
      subject: 'float_debian_dist',
    },
  ];
}

function checkMailRelay(model: Model): Diagnostic[] {
  const r = model.globals.mail_relay;
  if (!r || !at(model.sources.globals, ['mail_relay'])) return [];
  const out: Diagnostic[] = [];
  const bad = (key: string, message: string) =>
    out.push({ code: 'F2161', severity: 'error', message: `mail_relay.${key}: ${message}`, pos: locate(model.sources.globals, ['mail_relay', key]), subject: `mail_relay.${key}` });
  if (!JINJA.test(r.server) && !HOSTNAME.test(r.server) && !/^[0-9A-Fa-f:.]+$/.test(r.server)) bad('server', `'${r.server}' is not a host name or an address`);
  if (typeof r.port === 'string' && !JINJA.test(r.port) && !/^[0-9]{1,5}$/.test(r.port)) bad('port', `'${r.port}' is not a port number`);
  for (const k of ['user', 'password'] as const) if (/[\x00-\x1f\x7f]/.test(r[k])) bad(k, 'contains a control character (a line break?)');
  if (!JINJA.test(r.root_user) && !/^[^\s:,"<>]+$/.test(r.root_user)) bad('root_user', `'${r.root_user}' is not a mail address`);
  if ('tls' in r && typeof r.tls !== 'boolean') bad('tls', 'expected true or false');
  return out;
}

function checkVolumes(model: Model): Diagnostic[] {
  const out: Diagnostic[] = [];
  const groups = knownGroups(model);
  const seen = new Map<string, Array<{ s: Service; i: number; hosts: Set<string> }>>();
  for (const s of model.services) {
    s.volumes.forEach((v, i) => {
      if (v.size === undefined) {
        out.push({ code: 'F2162', severity: 'error', message: `volume '${v.name}' of service '${s.name}' has no size (e.g. size: 10G)`, pos: svcPos(model, s.name, ['volumes', i]), subject: v.name });
      } else if (lvmBytes(v.size) === undefined) {
        out.push({ code: 'F2162', severity: 'error', message: `volume '${v.name}' of service '${s.name}': size '${v.size}' is not an LVM size (a number with an optional unit k, m, g or t: 512m, 10G)`, pos: svcPos(model, s.name, ['volumes', i, 'size']), subject: v.name });
      }
      const hosts = candidateHosts(model, s, groups);
      for (const key of [`lv:${v.name}`, `path:${v.path}`]) {
        const before = seen.get(key) ?? [];
        for (const b of before) {
          if (b.s.name === s.name || [...hosts].some((h) => b.hosts.has(h))) {
            const what = key.startsWith('lv:') ? `logical volume name '${v.name}'` : `mount path '${v.path}'`;
            out.push({
              code: 'F2163',
              severity: 'error',
              message: `volume '${v.name}' of service '${s.name}' uses the ${what} of volume '${b.s.volumes[b.i].name}' of service '${b.s.name}', and both can be on one host`,
              pos: svcPos(model, s.name, ['volumes', i, key.startsWith('lv:') ? 'name' : 'path']),
              subject: v.name,
            });
            break;
          }
        }
        seen.set(key, [...before, { s, i, hosts }]);
      }
    });
  }
  return out;
}

/** volumes_vg_size of a host: its host variable, else the global. */
function vgSize(model: Model, host: { vars: Record<string, unknown> }): unknown {
  return host.vars.volumes_vg_size ?? model.globals.volumes_vg_size;
}

/** Checks that need the schedule: the volumes committed on each host against volumes_vg_size. */
export function volumeCommitChecks(model: Model, assignments: Record<string, string[]>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const globalSize = model.globals.volumes_vg_size;
  if (globalSize !== undefined && lvmBytes(globalSize as string) === undefined) {
    out.push({ code: 'F2165', severity: 'error', message: `volumes_vg_size '${String(globalSize)}' is not an LVM size (e.g. 100G)`, pos: locate(model.sources.globals, ['volumes_vg_size']), subject: 'volumes_vg_size' });
  }
  for (const h of model.hosts) {
    const size = vgSize(model, h);
    if (size === undefined) continue;
    const cap = lvmBytes(size as string);
    if (cap === undefined) {
      if (h.vars.volumes_vg_size !== undefined) {
        out.push({ code: 'F2165', severity: 'error', message: `volumes_vg_size '${String(size)}' of host '${h.name}' is not an LVM size (e.g. 100G)`, pos: locate(model.sources.hosts, ['hosts', h.name, 'volumes_vg_size']), subject: h.name });
      }
      continue;
    }
    const here = model.services.filter((s) => (assignments[s.name] ?? []).includes(h.name) && s.volumes.length > 0);
    const total = here.flatMap((s) => s.volumes).reduce((n, v) => n + (lvmBytes(v.size ?? '') ?? 0), 0);
    if (total > cap) {
      const list = here.flatMap((s) => s.volumes.map((v) => `${s.name}/${v.name} ${v.size}`)).join(', ');
      out.push({
        code: 'F2164',
        severity: 'warning',
        message: `host '${h.name}': the volumes scheduled there need ${human(total)}, more than its volume group ${model.globals.volumes_vg} holds (volumes_vg_size ${String(size)}): ${list}`,
        pos: h.vars.volumes_vg_size !== undefined ? locate(model.sources.hosts, ['hosts', h.name, 'volumes_vg_size']) : locate(model.sources.globals, ['volumes_vg_size']),
        subject: h.name,
      });
    }
  }
  return out;
}

/** The checks that need no schedule. */
export function lifecycleChecks(model: Model): Diagnostic[] {
  return [...checkDebianDist(model), ...checkMailRelay(model), ...checkVolumes(model)];
}
