// Semantic checks on a loaded model: the mistakes a schema cannot see. Each check
// is a small function returning diagnostics positioned at the offending attribute.
import { isIP } from 'node:net';
import { cidrContains, formatCidr, formatIp, parseCidr, parseIp, type Cidr } from './overlay.js';
import { checkOverlays } from './overlay-checks.js';
import { formatPosition as where, type Diagnostic, type Position } from './diagnostics.js';
import type { Model } from './load.js';
import { DEFAULT_CLIENT_CREDENTIAL, endpointPath, type Service } from './schema/service.js';
import { at, locate, type Sourced } from './source.js';
import { checkUnimplemented } from './unimplemented.js';
import { checkBackups } from './backups-check.js';
import { checkAdmins } from './admins.js';
import { svcPos } from './positions.js';
import { monitoringChecks } from './monitoring.js';
import { checkLogs } from './logs.js';
import { lifecycleChecks } from './lifecycle.js';


function hostPos(model: Model, host: string, path: PropertyKey[], key = false): Position {
  return locate(model.sources.hosts, ['hosts', host, ...path], { key });
}

/** Every group some host is in: `all`, written groups, overlay_<net>. */
export function knownGroups(model: Model): Map<string, string[]> {
  const groups = new Map<string, string[]>([['all', []]]);
  const add = (g: string, h: string) => {
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(h);
  };
  for (const h of model.hosts) {
    add('all', h.name);
    for (const g of h.groups) add(g, h.name);
    for (const net of Object.keys(h.overlays)) add(`overlay_${net}`, h.name);
  }
  return groups;
}

/** Hosts a service may be placed on (ignoring num_instances), following schedule_with. */
export function candidateHosts(model: Model, svc: Service, groups: Map<string, string[]>, seen = new Set<string>()): Set<string> {
  if (svc.schedule_with) {
    const target = model.services.find((s) => s.name === svc.schedule_with);
    if (!target || seen.has(target.name)) return new Set();
    return candidateHosts(model, target, groups, new Set([...seen, svc.name]));
  }
  const names = svc.scheduling_group ? [svc.scheduling_group] : svc.scheduling_groups ?? ['all'];
  const out = new Set<string>();
  for (const g of names) for (const h of groups.get(g) ?? []) out.add(h);
  return out;
}

/** Every port a service uses on its hosts, with the attribute path that declares it. */
function servicePorts(s: Service): Array<{ port: number; path: PropertyKey[] }> {
  const out: Array<{ port: number; path: PropertyKey[] }> = [];
  s.containers.forEach((c, i) => {
    if (c.port) out.push({ port: c.port, path: ['containers', i, 'port'] });
    (c.ports ?? []).forEach((p, j) => out.push({ port: p, path: ['containers', i, 'ports', j] }));
  });
  s.ports.forEach((p, i) => out.push({ port: p, path: ['ports', i] }));
  s.public_endpoints.forEach((e, i) => out.push({ port: e.port, path: ['public_endpoints', i, 'port'] }));
  s.horizontal_endpoints.forEach((e, i) => out.push({ port: e.port, path: ['horizontal_endpoints', i, 'port'] }));
  s.public_tcp_endpoints.forEach((e, i) => out.push({ port: e.port, path: ['public_tcp_endpoints', i, 'port'] }));
  s.monitoring_endpoints.forEach((e, i) => out.push({ port: e.port, path: ['monitoring_endpoints', i, 'port'] }));
  return out;
}

function checkPortConflicts(model: Model, groups: Map<string, string[]>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const claims = new Map<number, Array<{ svc: Service; path: PropertyKey[]; hosts: Set<string> }>>();
  for (const s of model.services) {
    const hosts = candidateHosts(model, s, groups);
    const seen = new Set<number>();
    for (const { port, path } of servicePorts(s)) {
      if (seen.has(port)) continue; // a service may name its own port several times
      seen.add(port);
      const list = claims.get(port) ?? [];
      for (const other of list) {
        const shared = [...hosts].find((h) => other.hosts.has(h));
        if (shared) {
          out.push({
            code: 'F2001',
            severity: 'error',
            message: `service '${s.name}' uses port ${port}, as does service '${other.svc.name}' (${where(svcPos(model, other.svc.name, other.path))}); both can run on host '${shared}'`,
            pos: svcPos(model, s.name, path),
            subject: String(port),
          });
        }
      }
      list.push({ svc: s, path, hosts });
      claims.set(port, list);
    }
  }
  return out;
}

/**
 * Credentials live in /etc/credentials/x509/<name>/ and are readable by the
 * group <name>-credentials: two services with one credential name on a host
 * would get one certificate (with only one of their names in it) and read each
 * other's key. 'host' is the client credential every host carries.
 */
function checkCredentialNames(model: Model, groups: Map<string, string[]>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const claims = new Map<string, Array<{ svc: Service; path: PropertyKey[]; hosts: Set<string> }>>();
  for (const s of model.services) {
    const hosts = candidateHosts(model, s, groups);
    s.service_credentials.forEach((c, i) => {
      const path = ['service_credentials', i, 'name'];
      const pos = svcPos(model, s.name, path);
      if (c.name === DEFAULT_CLIENT_CREDENTIAL) {
        out.push({ code: 'F2014', severity: 'error', message: `credential name '${c.name}' is taken by the client credential every host carries; choose another name`, pos, subject: c.name });
        return;
      }
      const list = claims.get(c.name) ?? [];
      for (const other of list) {
        const shared = other.svc === s ? undefined : [...hosts].find((h) => other.hosts.has(h));
        if (other.svc === s || shared) {
          const why = other.svc === s ? `service '${s.name}' names it twice` : `service '${other.svc.name}' has it too and both can run on host '${shared}'`;
          out.push({ code: 'F2014', severity: 'error', message: `credential '${c.name}': ${why} (${where(svcPos(model, other.svc.name, other.path))}); credential names must differ`, pos, subject: c.name });
          break;
        }
      }
      list.push({ svc: s, path, hosts });
      claims.set(c.name, list);
    });
  }
  return out;
}

/**
 * A service named like a host, with a server certificate that can also act as a
 * client (`server_cert_mode: client` or `both`): that certificate (CN
 * <svc>.<domain>) would carry the host's own client identity, which is what the
 * ACME export trusts (only the frontends' host certificates get the public
 * keys). A host named like a service is otherwise fine (`web.host` resolves it).
 */
function checkServiceHostNames(model: Model): Diagnostic[] {
  const hosts = new Set(model.hosts.map((h) => h.name));
  const out: Diagnostic[] = [];
  for (const s of model.services) {
    if (!hosts.has(s.name)) continue;
    s.service_credentials.forEach((c, i) => {
      if (!c.enable_server || c.server_cert_mode === 'server') return;
      out.push({
        code: 'F2061',
        severity: 'error',
        message: `credential '${c.name}' of service '${s.name}': a server certificate usable as a client (server_cert_mode: ${c.server_cert_mode}) of a service named like host '${s.name}' (${where(hostPos(model, s.name, [], true))}) would carry that host's identity; rename the service or use server_cert_mode: server`,
        pos: svcPos(model, s.name, ['service_credentials', i, 'server_cert_mode']),
      });
    });
  }
  return out;
}

/**
 * What the frontends route, claimed once each: a server name and path (HTTP), a
 * server name relayed by SNI (TLS passthrough: no HTTP path may share that name),
 * a horizontal path (served on every name). The inventory derivation builds its
 * routing maps on the same rules, so a configuration that passes here derives.
 */
function checkPublicEndpoints(model: Model): Diagnostic[] {
  const out: Diagnostic[] = [];
  /** "server path" (HTTP), "server \0tls" (passthrough), "\0horizontal path" -> where claimed. */
  const claims = new Map<string, { pos: Position; what: string }>();
  const httpPaths = new Map<string, string[]>(); // server -> HTTP paths claimed
  for (const s of model.services) {
    s.public_endpoints.forEach((e, i) => {
      const path = endpointPath(e.path);
      const written: Array<{ fqdn: string; at: PropertyKey[] }> = [
        // A short name is served under every public domain, so compare full names.
        ...(e.name ? model.globals.domain_public.map((d) => ({ fqdn: `${e.name}.${d}`, at: ['name'] })) : []),
        ...(e.domains ?? []).map((d, j) => ({ fqdn: d, at: ['domains', j] })),
      ];
      if (written.length === 0) {
        out.push({
          code: 'F1003',
          severity: 'error',
          message: `service '${s.name}': public endpoint needs a 'name' or 'domains'`,
          pos: svcPos(model, s.name, ['public_endpoints', i]),
          subject: s.name,
        });
      }
      const passthrough = e.mode === 'tls-passthrough';
      const done = new Set<string>(); // a name written twice in one endpoint is one name
      const reported = new Set<string>(); // one error per written name, not per public domain
      for (const n of written) {
        if (done.has(n.fqdn)) continue;
        done.add(n.fqdn);
        const pos = svcPos(model, s.name, ['public_endpoints', i, ...n.at]);
        const key = passthrough ? `${n.fqdn} \u0000tls` : `${n.fqdn} ${path}`;
        const conflicts = passthrough ? (httpPaths.get(n.fqdn) ?? []).map((p) => `${n.fqdn} ${p}`) : [`${n.fqdn} \u0000tls`];
        const prevKey = [key, ...conflicts].find((k) => claims.has(k));
        if (prevKey === undefined) {
          claims.set(key, { pos, what: passthrough ? 'TLS passthrough' : `path '${path}'` });
          if (!passthrough) httpPaths.set(n.fqdn, [...(httpPaths.get(n.fqdn) ?? []), path]);
          continue;
        }
        if (reported.has(where(pos))) continue;
        reported.add(where(pos));
        const prev = claims.get(prevKey)!;
        if (!passthrough && prevKey === key) {
          out.push({ code: 'F2002', severity: 'error', message: `public endpoint '${n.fqdn}' path '${path}' is already defined at ${where(prev.pos)}`, pos, subject: n.fqdn });
        } else {
          const mine = passthrough ? 'TLS passthrough' : `path '${path}'`;
          out.push({
            code: 'F2020',
            severity: 'error',
            message: `public endpoint '${n.fqdn}' (${mine}) clashes with ${prev.what} at ${where(prev.pos)}: a name relayed by TLS passthrough is served by one backend and cannot also be served over HTTP or passed through twice`,
            pos,
            subject: n.fqdn,
          });
        }
      }
    });
    s.horizontal_endpoints.forEach((e, i) => {
      const key = `\u0000horizontal ${e.path}`;
      const pos = svcPos(model, s.name, ['horizontal_endpoints', i, 'path']);
      const prev = claims.get(key);
      if (prev) {
        out.push({
          code: 'F2021',
          severity: 'error',
          message: `horizontal endpoint path '${e.path}' is already defined at ${where(prev.pos)}; one path on every public name goes to one service`,
          pos,
          subject: e.path,
        });
      } else claims.set(key, { pos, what: 'horizontal endpoint' });
    });
  }
  const tcp = new Map<number, { svc: string; pos: Position }>();
  for (const s of model.services) {
    s.public_tcp_endpoints.forEach((e, i) => {
      const port = e.public_port ?? e.port;
      const pos = svcPos(model, s.name, ['public_tcp_endpoints', i, e.public_port ? 'public_port' : 'port']);
      const prev = tcp.get(port);
      const frontendOwn = FRONTEND_PORTS.get(port);
      if (frontendOwn) {
        out.push({
          code: 'F2010',
          severity: 'error',
          message: `public TCP port ${port} of service '${s.name}' is the frontends' own ${frontendOwn} port; choose another public_port`,
          pos,
          subject: String(port),
        });
      } else if (prev) {
        out.push({
          code: 'F2010',
          severity: 'error',
          message: `public TCP port ${port} of service '${s.name}' is already claimed by service '${prev.svc}' (${where(prev.pos)})`,
          pos,
          subject: String(port),
        });
      } else tcp.set(port, { svc: s.name, pos });
    });
  }
  return out;
}

/** Ports the frontend hosts serve themselves (nginx, bind9): no TCP endpoint may claim them. */
const FRONTEND_PORTS = new Map([
  [53, 'DNS'],
  [80, 'HTTP'],
  [443, 'HTTPS'],
]);

function checkDatasets(model: Model): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const s of model.services) {
    s.datasets.forEach((d, i) => {
      if (d.path && d.backup_command) {
        out.push({
          code: 'F2007',
          severity: 'error',
          message: `dataset '${d.name}' of service '${s.name}' has both 'path' and 'backup_command'; use one`,
          pos: svcPos(model, s.name, ['datasets', i, 'backup_command']),
          subject: d.name,
        });
      }
    });
  }
  return out;
}

function checkAddresses(model: Model): Diagnostic[] {
  const out: Diagnostic[] = [];
  const overlays = new Map<string, Cidr | undefined>();
  model.globals.net_overlays.forEach((o, i) => {
    const net = parseCidr(o.network);
    if (!net) {
      out.push({
        code: 'F2008',
        severity: 'error',
        message: `net_overlays: '${o.network}' is not an IPv4 or IPv6 network in CIDR notation`,
        pos: locate(model.sources.globals, ['net_overlays', i, 'network']),
        subject: o.name,
      });
      overlays.set(o.name, undefined);
    } else overlays.set(o.name, net);
  });
  const used = new Map<string, { host: string; pos: Position }>();
  const claim = (space: string, addr: string, host: string, pos: Position) => {
    const key = `${space} ${addr}`;
    const prev = used.get(key);
    if (prev && prev.host !== host) {
      out.push({
        code: 'F2009',
        severity: 'error',
        message: `address ${addr} of host '${host}' is also used by host '${prev.host}' (${where(prev.pos)})`,
        pos,
        subject: addr,
      });
    } else if (!prev) used.set(key, { host, pos });
  };
  for (const h of model.hosts) {
    const internal = addressPaths(model.sources.hosts, h.name, 'ips');
    h.ips.forEach((ip, i) => {
      const written = locate(model.sources.hosts, internal[i] ?? ['hosts', h.name]);
      if (!isIP(ip)) {
        out.push({ code: 'F1002', severity: 'error', message: `host '${h.name}': '${ip}' is not an IP address`, pos: written, subject: h.name });
        return;
      }
      claim('ips', ip, h.name, written);
    });
    addressPaths(model.sources.hosts, h.name, 'public_ips').forEach((path, i) => {
      const ip = h.public_ips[i];
      if (ip === undefined || isIP(ip)) return;
      const pos = locate(model.sources.hosts, path);
      out.push({ code: 'F1002', severity: 'error', message: `host '${h.name}': public address '${ip}' is not an IP address`, pos, subject: h.name });
    });
    for (const [net, addr] of Object.entries(h.overlays)) {
      const pos = hostPos(model, h.name, [`ip_${net}`]);
      if (!overlays.has(net)) {
        out.push({
          code: 'F2008',
          severity: 'error',
          message: `host '${h.name}': overlay '${net}' is not defined in net_overlays`,
          pos: hostPos(model, h.name, [`ip_${net}`], true),
          subject: h.name,
        });
        continue;
      }
      const range = overlays.get(net);
      const ip = parseIp(addr);
      if (!ip || (range && ip.family !== range.family)) {
        const kind = range ? (range.family === 4 ? 'an IPv4' : 'an IPv6') : 'an IP';
        out.push({ code: 'F2008', severity: 'error', message: `host '${h.name}': ip_${net} '${addr}' is not ${kind} address`, pos, subject: h.name });
        continue;
      }
      if (range && !cidrContains(range, ip)) {
        out.push({
          code: 'F2008',
          severity: 'error',
          message: `host '${h.name}': ip_${net} ${addr} is outside overlay '${net}' (${formatCidr(range)})`,
          pos,
          subject: h.name,
        });
        continue;
      }
      // One spelling per address: 'fd00::1' and 'fd00:0::1' are the same host address.
      claim(`overlay ${net}`, formatIp(ip), h.name, pos);
    }
  }
  return out;
}

/**
 * Where each of a host's addresses is written, in the order the loader lists them:
 * `ips`/`public_ips` items, or the legacy `ip`, `ip6` (`public_ip`, `public_ip6`) keys.
 * Public addresses defaulted from `ips` are not written anywhere: an empty list.
 */
function addressPaths(hosts: Sourced, host: string, list: 'ips' | 'public_ips'): PropertyKey[][] {
  const base = ['hosts', host];
  const written = at(hosts, [...base, list]);
  if (written?.kind === 'seq') return written.items.map((_, i) => [...base, list, i]);
  const legacy = list === 'ips' ? ['ip', 'ip6'] : ['public_ip', 'public_ip6'];
  return legacy
    .filter((k) => {
      const v = at(hosts, [...base, k]);
      return v?.kind === 'scalar' && !!v.value;
    })
    .map((k) => [...base, k]);
}

/** The built-in services every public name needs (services.default.yml). */
const BUILTIN_SERVICES_FILE = 'services.default.yml';

/**
 * Public endpoints are served by the built-in `frontend` service (nginx, haproxy,
 * public DNS) and, outside testing, their certificates come from the built-in
 * `acme` service: without them float run would fail halfway (no frontend hosts,
 * no frontend-credentials group). Pointed at each service's first endpoint.
 */
function checkBuiltinServices(model: Model): Diagnostic[] {
  const out: Diagnostic[] = [];
  const names = new Set(model.services.map((s) => s.name));
  const include = `include float's ${BUILTIN_SERVICES_FILE} from your services file (include: [/path/to/float/${BUILTIN_SERVICES_FILE}])`;
  const kinds = ['public_endpoints', 'public_tcp_endpoints', 'public_other_endpoints', 'horizontal_endpoints'] as const;
  let needsAcme: { svc: Service; kind: string } | undefined;
  for (const s of model.services) {
    const kind = kinds.find((k) => s[k].length > 0);
    if (!kind) continue;
    if (!s.skip_acme && (s.public_endpoints.some((e) => e.mode !== 'tls-passthrough') || s.public_other_endpoints.length > 0)) {
      needsAcme ??= { svc: s, kind: s.public_endpoints.length > 0 ? 'public_endpoints' : 'public_other_endpoints' };
    }
    if (names.has('frontend')) continue;
    out.push({
      code: 'F2023',
      severity: 'error',
      message: `service '${s.name}' has ${kind}, but no service 'frontend' serves them: ${include}`,
      pos: svcPos(model, s.name, [kind, 0]),
      subject: 'frontend',
    });
  }
  if (needsAcme && names.has('frontend') && !names.has('acme') && model.globals.testing === false) {
    out.push({
      code: 'F2023',
      severity: 'error',
      message: `service '${needsAcme.svc.name}' has ${needsAcme.kind} that need public certificates (testing: false), but no service 'acme' obtains them: ${include}`,
      pos: svcPos(model, needsAcme.svc.name, [needsAcme.kind, 0]),
      subject: 'acme',
    });
  }
  return out;
}

/** All semantic checks. */
export function semanticChecks(model: Model): Diagnostic[] {
  const groups = knownGroups(model);
  return [
    // Scheduling groups and schedule_with: checked once, by the scheduler (src/scheduler/check.ts).
    ...checkPortConflicts(model, groups),
    ...checkCredentialNames(model, groups),
    ...checkServiceHostNames(model),
    ...checkPublicEndpoints(model),
    ...checkDatasets(model),
    ...checkBackups(model),
    ...checkAddresses(model),
    ...checkOverlays(model),
    ...checkBuiltinServices(model),
    ...checkUnimplemented(model),
    ...monitoringChecks(model),
    ...checkLogs(model),
    ...checkAdmins(model),
    ...lifecycleChecks(model),
  ];
}
