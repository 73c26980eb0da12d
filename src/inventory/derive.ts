// Derives the inventory from a model and its schedule: a pipeline of small pure
// functions, each computing one derived fact. No I/O here.
import { basename } from 'node:path';
import type { Model } from '../config/load.js';
import type { Host } from '../config/schema/host.js';
import { DEFAULT_CLIENT_CREDENTIAL, endpointPath, type Service } from '../config/schema/service.js';
import { pathSegment } from '../config/safe-path.js';
import type { ScheduleResult } from '../scheduler/types.js';
import { byCodePoint, containerTag, groupName, serviceUnits, serviceUser } from './names.js';
import type { HostCredential, Inventory, Vars } from './types.js';
import { publicDnsVars } from './public-dns.js';
import { endpointServerNames, instanceName, makeContext, type Context } from './context.js';
import { serviceData } from './data-strings.js';
import { dataString } from './yaml-emit.js';
import { hostOverlays, overlayFirewallSets, overlayPeers } from './overlay.js';
import { monitoringFirewallRules, monitoringGroupVars } from './monitoring.js';
import { backupGlobalVars, backupHostVars } from './backups.js';
import { logClientCredential, logGlobals, logUnits } from './logs.js';
import { LOG_COLLECTOR_PORT, LOG_COLLECTOR_SERVICE } from '../config/logs.js';
import { lifecycleHostVars, TURNDOWN_GROUP } from './lifecycle.js';

// ---------------------------------------------------------------- addresses

/**
 * The addresses `viewer` should use to reach `target`: the target's address on the
 * first (sorted) overlay both are on, else the target's `ips`.
 */
function addressesFor(viewerOverlays: string[], target: Host): string[] {
  for (const net of viewerOverlays) if (target.overlays[net]) return [target.overlays[net]];
  return target.ips;
}

// ---------------------------------------------------------------- groups

export function hostGroups(ctx: Context, viewGroup: (key: string) => string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const h of ctx.model.hosts) {
    const groups = new Set(h.groups);
    for (const net of Object.keys(h.overlays)) groups.add(`overlay_${net}`);
    if (Object.keys(h.overlays).length > 0) groups.add('net_overlay');
    for (const s of ctx.servicesOnHost.get(h.name)!) groups.add(groupName(s.name));
    groups.add(viewGroup(ctx.viewOf.get(h.name)!));
    if (h.turndown) groups.add(TURNDOWN_GROUP);
    out[h.name] = [...groups].sort(byCodePoint);
  }
  return out;
}

// ---------------------------------------------------------------- services

/** The global `services` map: every service's metadata, enriched. */
function enrichedServices(ctx: Context): Vars {
  const out: Vars = {};
  for (const s of ctx.model.services) {
    out[s.name] = {
      ...serviceData(s),
      group_name: groupName(s.name),
      user: serviceUser(s.name),
      hosts: ctx.schedule.assignments[s.name] ?? [],
      ...(ctx.schedule.masters[s.name] ? { master_host: ctx.schedule.masters[s.name] } : {}),
      systemd_units: serviceUnits(s),
    };
  }
  return out;
}

// ---------------------------------------------------------------- DNS

/**
 * The service discovery map as seen from hosts on `overlays`: name (without domain)
 * -> addresses. Entries: `svc` (every instance), `host.svc`, `shard.svc`,
 * `svc-master`, `host.host` (as upstream float), and the bare host name (the
 * roles write `host.domain` and the short name from it). A service name wins over
 * an equal host name: the host stays reachable as `host.host`.
 */
function dnsMap(ctx: Context, overlays: string[]): Record<string, string[]> {
  const map = new Map<string, Set<string>>();
  const add = (name: string, addrs: string[]) => {
    let set = map.get(name);
    if (!set) map.set(name, (set = new Set()));
    for (const a of addrs) set.add(a);
  };
  const serviceNames = new Set(ctx.model.services.map((s) => s.name));
  for (const h of ctx.model.hosts) {
    const addrs = addressesFor(overlays, h);
    add(`${h.name}.host`, addrs);
    if (!serviceNames.has(h.name)) add(h.name, addrs);
  }
  for (const s of ctx.model.services) {
    for (const hn of ctx.schedule.assignments[s.name] ?? []) {
      const h = ctx.hostsByName.get(hn)!;
      const addrs = addressesFor(overlays, h);
      add(s.name, addrs);
      add(`${h.name}.${s.name}`, addrs);
      if (h.shard_id !== undefined) add(`${h.shard_id}.${s.name}`, addrs);
    }
    const master = ctx.schedule.masters[s.name];
    if (master) add(`${s.name}-master`, addressesFor(overlays, ctx.hostsByName.get(master)!));
  }
  return Object.fromEntries([...map].map(([k, v]) => [k, [...v]]));
}

/**
 * The global (view-independent) map, as upstream float defines it: every host's
 * `ips` under its name, and its overlay address under `host.<overlay>`.
 */
function globalDnsMap(ctx: Context): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const h of ctx.model.hosts) {
    out[h.name] = h.ips;
    for (const net of Object.keys(h.overlays).sort(byCodePoint)) out[`${h.name}.${net}`] = [h.overlays[net]];
  }
  return out;
}

// ---------------------------------------------------------------- credentials

/** Server certificate names of a service's instance on a host, as the reference lists them. */
export function serverNames(ctx: Context, s: Service, h: Host, extraSan: string[]): { names: string[]; ips: string[] } {
  const d = ctx.model.globals.domain;
  const names = [`${s.name}.${d}`, s.name, `${h.name}.${s.name}.${d}`, `${h.name}.${s.name}`];
  if (h.shard_id !== undefined) names.push(`${h.shard_id}.${s.name}.${d}`, `${h.shard_id}.${s.name}`);
  // The master instance also answers as svc-master (its DNS name), as upstream float certifies.
  if (ctx.schedule.masters[s.name] === h.name) names.push(`${s.name}-master.${d}`, `${s.name}-master`);
  names.push(`${h.name}.${d}`, 'localhost', ...extraSan.map((x) => `${x}.${d}`));
  const ips = [...h.ips, ...h.public_ips, ...Object.keys(h.overlays).sort(byCodePoint).map((n) => h.overlays[n]), '127.0.0.1', '::1'];
  return { names: [...new Set(names)], ips: [...new Set(ips)] };
}

export { DEFAULT_CLIENT_CREDENTIAL };

function hostCredentials(ctx: Context, h: Host): HostCredential[] {
  const d = ctx.model.globals.domain;
  const out: HostCredential[] = [];
  for (const s of ctx.servicesOnHost.get(h.name)!) {
    for (const c of s.service_credentials) {
      const server = serverNames(ctx, s, h, c.extra_san);
      out.push({
        name: c.name,
        service: s.name,
        enable_client: c.enable_client,
        enable_server: c.enable_server,
        client_cert_mode: c.client_cert_mode,
        server_cert_mode: c.server_cert_mode,
        client_names: [c.name, `${c.name}.${d}`],
        server_names: server.names,
        server_ips: server.ips,
      });
    }
  }
  out.push({
    name: DEFAULT_CLIENT_CREDENTIAL,
    service: '',
    enable_client: true,
    enable_server: false,
    client_cert_mode: 'client',
    server_cert_mode: 'server',
    client_names: [`${h.name}.${d}`, h.name],
    server_names: [],
    server_ips: [],
  });
  const logClient = logClientCredential(ctx, h);
  if (logClient) out.push(logClient);
  return out;
}

// ---------------------------------------------------------------- firewall

/** Who may connect: every float host, the frontend hosts, the monitoring scrapers. */
export type SourceSet = 'all_hosts' | 'frontends' | 'scrapers';

export interface FirewallRule {
  port: number;
  protocols: Array<'tcp' | 'udp'>;
  service: string;
  /** Why the port is open: ports | frontends_only | public_endpoint | monitoring. */
  reason: string;
  /** The address set allowed to connect (float_firewall_sets, emitted once for all hosts). */
  sources: SourceSet;
}

function addressSet(hosts: Host[]): { v4: string[]; v6: string[] } {
  const all = [...new Set(hosts.flatMap((h) => [...h.ips, ...Object.values(h.overlays)]))].sort(byCodePoint);
  return { v4: all.filter((a) => !a.includes(':')), v6: all.filter((a) => a.includes(':')) };
}

/** The address sets firewall rules refer to; global, so the inventory does not repeat them per host. */
function firewallSets(ctx: Context): Record<SourceSet, { v4: string[]; v6: string[] }> {
  const byName = (names: string[]) => names.map((n) => ctx.hostsByName.get(n)!).filter(Boolean);
  return {
    all_hosts: addressSet(ctx.model.hosts),
    frontends: addressSet(byName(ctx.schedule.assignments['frontend'] ?? [])),
    scrapers: addressSet(byName(ctx.schedule.assignments['prometheus'] ?? [])),
    ...overlayFirewallSets(ctx),
  };
}

/**
 * Ports of built-in services that only the frontend hosts may reach: the ACME
 * export (float-infra-acme) hands out the public certificates with their
 * private keys, and only the frontends fetch them.
 */
const FRONTEND_ONLY_PORTS: Record<string, number[]> = { acme: [5005] };

/** The public endpoint the frontends serve the admin dashboard at (services.default.yml). */
export const DASHBOARD_ENDPOINT = { service: 'prometheus', name: 'dashboard' } as const;

/**
 * Which sources may reach each port a service exposes on this host. Container
 * ports stay local (nothing opened); `ports` are open to all hosts (the ACME export to the frontends only); endpoint ports
 * to the frontend hosts; monitoring ports to the hosts running prometheus.
 */
function firewallRules(ctx: Context, h: Host): FirewallRule[] {
  const rules: FirewallRule[] = [];
  for (const s of ctx.servicesOnHost.get(h.name)!) {
    for (const p of s.ports) {
      if (FRONTEND_ONLY_PORTS[s.name]?.includes(p)) rules.push({ port: p, protocols: ['tcp'], service: s.name, reason: 'frontends_only', sources: 'frontends' });
      // syslog over TLS is TCP only (and the collector accepts only the fleet's certificates).
      else if (s.name === LOG_COLLECTOR_SERVICE && p === LOG_COLLECTOR_PORT) rules.push({ port: p, protocols: ['tcp'], service: s.name, reason: 'ports', sources: 'all_hosts' });
      else rules.push({ port: p, protocols: ['tcp', 'udp'], service: s.name, reason: 'ports', sources: 'all_hosts' });
    }
    const endpointPorts = new Set([
      ...s.public_endpoints.map((e) => e.port),
      ...s.horizontal_endpoints.map((e) => e.port),
      ...s.public_tcp_endpoints.map((e) => e.port),
    ]);
    for (const p of [...endpointPorts].sort((a, b) => a - b)) {
      rules.push({ port: p, protocols: ['tcp'], service: s.name, reason: 'public_endpoint', sources: 'frontends' });
    }
    for (const p of [...new Set(s.monitoring_endpoints.map((e) => e.port))].sort((a, b) => a - b)) {
      rules.push({ port: p, protocols: ['tcp'], service: s.name, reason: 'monitoring', sources: 'scrapers' });
    }
  }
  return rules;
}

// ---------------------------------------------------------------- traffic routing

export interface HttpUpstream {
  name: string;
  service: string;
  port: number;
  scheme: string;
  /** Instance names (host.service.domain) nginx proxies to. */
  targets: string[];
}

/**
 * `be_<endpoint>_<port>_<service>`, as upstream float names them. Characters nginx
 * would not accept in an upstream name (a horizontal endpoint's `/`) become `_`.
 */
function upstreamName(endpoint: string, port: number, service: string): string {
  return `be_${endpoint}_${port}_${service}`.replace(/[^A-Za-z0-9_.-]/g, '_');
}


function instanceTargets(ctx: Context, s: Service): string[] {
  return (ctx.schedule.assignments[s.name] ?? []).map((h) => instanceName(ctx, h, s.name));
}


/**
 * The frontend's precomputed routing maps (group_vars/frontend), so templates stay
 * free of logic:
 * - `float_http_upstreams`: one per distinct `be_<endpoint>_<port>_<service>`
 *   (public and horizontal endpoints proxied over HTTP);
 * - `float_http_endpoints`: server name -> `/`-terminated path -> endpoint (HTTPS);
 *   `float_http_plain_endpoints`: the same for `mode: http` endpoints, served over
 *   plain HTTP too;
 * - `float_tls_passthrough`: server name -> upstream, and those upstreams, for
 *   `mode: tls-passthrough` endpoints (relayed by SNI, never terminated);
 * - `float_http_horizontal_endpoints`: path -> endpoint, on every server;
 * - `float_tcp_endpoints` (public_port defaulted) and `float_other_endpoints`.
 * A server name + path claimed twice (after expanding names over domain_public), a
 * passthrough name also served over HTTP, or a horizontal path claimed twice is
 * refused by float check (F2002, F2020, F2021, src/config/semantic.ts) before
 * anything is derived; here it can only be a bug.
 */
export function frontendVars(ctx: Context): Vars {
  const upstreams = new Map<string, HttpUpstream>();
  const passUpstreams = new Map<string, HttpUpstream>();
  const endpoints: Record<string, Record<string, Vars>> = {};
  const plain: Record<string, Record<string, Vars>> = {};
  const passServers: Record<string, string> = {};
  const horizontal: Record<string, Vars> = {};
  const tcp: Vars[] = [];
  const other: Vars[] = [];
  /**
   * "server path", "server \0tls" (passthrough), "\0horizontal path": each claimed once.
   * float check refuses every clash first (src/config/semantic.ts, F2002, F2020,
   * F2021): reaching one here is a bug, not a user mistake.
   */
  const claims = new Set<string>();
  const claim = (key: string, conflicts: string[], what: string): void => {
    if ([key, ...conflicts].some((k) => claims.has(k))) throw new Error(`internal: routing clash that float check should have refused: ${what}`);
    claims.add(key);
  };
  const pathsOf = new Map<string, string[]>(); // server -> HTTP paths claimed

  for (const s of ctx.model.services) {
    const targets = instanceTargets(ctx, s);
    s.public_endpoints.forEach((e) => {
      const up = upstreamName(e.name ?? e.domains?.[0] ?? s.name, e.port, s.name);
      if (e.mode === 'tls-passthrough') {
        if (!passUpstreams.has(up)) passUpstreams.set(up, { name: up, service: s.name, port: e.port, scheme: 'tls', targets });
        for (const server of endpointServerNames(ctx, e)) {
          const httpPaths = (pathsOf.get(server) ?? []).map((p) => `${server} ${p}`);
          claim(`${server} \u0000tls`, httpPaths, `public endpoint '${server}' (TLS passthrough)`);
          passServers[server] = up;
        }
        return;
      }
      if (!upstreams.has(up)) upstreams.set(up, { name: up, service: s.name, port: e.port, scheme: e.scheme, targets });
      const path = endpointPath(e.path);
      const entry: Vars = {
        upstream: up,
        service: s.name,
        port: e.port,
        scheme: e.scheme,
        mode: e.mode,
        autoconfig: e.autoconfig,
        enable_sso_proxy: e.enable_sso_proxy,
        extra_nginx_config: dataString(e.extra_nginx_config ?? ''),
        skip_acme: s.skip_acme,
        // The built-in dashboard endpoint (services.default.yml): nginx serves the
        // dashboard's files and passes only Prometheus' query API on.
        ...(s.name === DASHBOARD_ENDPOINT.service && e.name === DASHBOARD_ENDPOINT.name ? { dashboard: true } : {}),
      };
      for (const server of endpointServerNames(ctx, e)) {
        claim(`${server} ${path}`, [`${server} \u0000tls`], `public endpoint '${server}' path '${path}'`);
        pathsOf.set(server, [...(pathsOf.get(server) ?? []), path]);
        (endpoints[server] ??= {})[path] = entry;
        if (e.mode === 'http') (plain[server] ??= {})[path] = entry;
      }
    });
    s.horizontal_endpoints.forEach((e) => {
      const up = upstreamName(e.path.replace(/^\/+/, ''), e.port, s.name);
      claim(`\u0000horizontal ${e.path}`, [], `horizontal endpoint path '${e.path}'`);
      if (!upstreams.has(up)) upstreams.set(up, { name: up, service: s.name, port: e.port, scheme: e.scheme, targets });
      horizontal[e.path] = { upstream: up, service: s.name, port: e.port, scheme: e.scheme };
    });
    for (const e of s.public_tcp_endpoints) {
      tcp.push({
        name: e.name,
        service: s.name,
        port: e.port,
        public_port: e.public_port ?? e.port,
        use_proxy_protocol: e.use_proxy_protocol,
        targets,
      });
    }
    for (const e of s.public_other_endpoints) {
      other.push({ name: e.name, service: s.name, server_names: endpointServerNames(ctx, e), skip_acme: s.skip_acme, skip_dns: s.skip_dns });
    }
  }
  return {
    float_acme_certificates: acmeNames(ctx),
    float_enable_http_frontend: ctx.model.services.some((s) => s.public_endpoints.length > 0),
    float_http_upstreams: [...upstreams.values()],
    float_http_endpoints: endpoints,
    float_http_plain_endpoints: plain,
    float_http_horizontal_endpoints: horizontal,
    float_tls_passthrough: { servers: passServers, upstreams: [...passUpstreams.values()] },
    float_tcp_endpoints: tcp,
    float_other_endpoints: other,
  };
}

/**
 * Public names the ACME client gets certificates for: every HTTP endpoint the
 * frontends terminate and every `public_other_endpoints` name, unless the service
 * says `skip_acme` (TLS passthrough backends hold their own certificates).
 */
function acmeNames(ctx: Context): string[] {
  const names = new Set<string>();
  for (const s of ctx.model.services) {
    if (s.skip_acme) continue;
    for (const e of s.public_endpoints) if (e.mode !== 'tls-passthrough') for (const n of endpointServerNames(ctx, e)) names.add(n);
    for (const e of s.public_other_endpoints) for (const n of endpointServerNames(ctx, e)) names.add(n);
  }
  return [...names].sort(byCodePoint);
}

/** port -> the public HTTP endpoints served by that backend port. */
function httpEndpointsByPort(ctx: Context): Record<string, Vars[]> {
  const out: Record<string, Vars[]> = {};
  for (const s of ctx.model.services) {
    for (const e of s.public_endpoints) {
      (out[String(e.port)] ??= []).push({
        service: s.name,
        name: e.name ?? null,
        path: endpointPath(e.path),
        scheme: e.scheme,
        server_names: endpointServerNames(ctx, e),
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------- per host

/** Host variables float-only attributes never pass through (Ansible reserves `groups`). */
const RESERVED_HOST_KEYS = new Set(['groups']);

export function hostVars(ctx: Context, h: Host): Vars {
  const vars: Vars = {};
  for (const [k, v] of Object.entries(h.vars)) if (!RESERVED_HOST_KEYS.has(k)) vars[k] = v;
  const here = ctx.servicesOnHost.get(h.name)!;
  // Set per host (O(instances)), not on the service's group: an inventory group of
  // the same name (e.g. `frontend`) may hold hosts the service does not run on.
  for (const s of here) {
    const g = groupName(s.name);
    vars[`float_enable_${g}`] = true;
    vars[`float_instance_index_${g}`] = ctx.instanceIndex.get(`${s.name}\u0000${h.name}`);
    if (ctx.schedule.masters[s.name] === h.name) vars[`float_${g}_is_master`] = true;
  }
  vars.float_enabled_services = here.map((s) => s.name);
  vars.float_enabled_containers = here.flatMap((s) =>
    s.containers.map((c, i) => ({ service: s.name, tag: containerTag(s.name, c.name), container: serviceData(s).containers[i] })),
  );
  vars.float_enabled_systemd_units = [...new Set(here.flatMap(serviceUnits))].sort(byCodePoint);
  // The names of the overlays this host is on, as upstream float lists them (the
  // address is the host's ip_<net>, the network in net_overlays).
  vars.float_host_overlay_networks = Object.keys(h.overlays).sort(byCodePoint);
  vars.float_host_service_credentials = hostCredentials(ctx, h);
  vars.float_host_firewall = [...firewallRules(ctx, h), ...monitoringFirewallRules(ctx, h)];
  vars.float_overlays = hostOverlays(ctx, h);
  Object.assign(vars, backupHostVars(ctx, h));
  vars.float_log_units = logUnits(ctx, h);
  Object.assign(vars, lifecycleHostVars(ctx, h));
  return vars;
}

// ---------------------------------------------------------------- globals

/**
 * Global variables. Per-service flags default to false here and are set to true in
 * the host variables of the hosts running the service (and of the master), so the
 * inventory stays proportional to hosts + instances rather than hosts × services.
 */
function globalVars(ctx: Context): Vars {
  const flags: Vars = {};
  for (const s of ctx.model.services) {
    const g = groupName(s.name);
    flags[`float_enable_${g}`] = false;
    if (s.master_election) flags[`float_${g}_is_master`] = false;
  }
  return {
    ...flags,
    float_plugin_loaded: true,
    services: enrichedServices(ctx),
    float_service_assignments: ctx.schedule.assignments,
    float_service_masters: ctx.schedule.masters,
    float_global_dns_map: globalDnsMap(ctx),
    float_http_endpoints_by_port: httpEndpointsByPort(ctx),
    float_firewall_sets: firewallSets(ctx),
    float_overlay_peers: overlayPeers(ctx),
    ...backupGlobalVars(ctx),
    // Lists that would repeat every service on every host are computed by Ansible
    // from the globals above.
    float_disabled_services:
      "{{ services.keys() | list | difference(float_enabled_services) | sort }}",
    float_disabled_systemd_units:
      "{{ services | dict2items | rejectattr('key', 'in', float_enabled_services) | map(attribute='value.systemd_units') | flatten | unique | difference(float_enabled_systemd_units) | sort }}",
  };
}

// ---------------------------------------------------------------- all together

function viewGroupName(index: number): string {
  return `float_dns_view_${index}`;
}

export function deriveInventory(model: Model, schedule: ScheduleResult): Inventory {
  const ctx = makeContext(model, schedule);
  const viewKeys = [...new Set(ctx.viewOf.values())].sort(byCodePoint);
  const viewIndex = new Map(viewKeys.map((k, i) => [k, i]));
  const hostGroupsOut = hostGroups(ctx, (k) => viewGroupName(viewIndex.get(k)!));

  const groupVars: Inventory['groupVars'] = {};
  const { domain: _d, ...restGlobals } = model.globals;
  // Variables from vault-encrypted group_vars files stay in those files (copied below, still encrypted).
  const clear = (g: string, vars: Vars): Vars => {
    const hidden = new Set(model.encryptedKeys?.[g] ?? []);
    return hidden.size === 0 ? vars : Object.fromEntries(Object.entries(vars).filter(([k]) => !hidden.has(k)));
  };
  groupVars.all = {
    config: {
      ...clear('all', { ...restGlobals, domain: model.globals.domain }),
      credentials_dir: model.config.credentials_dir,
      float_passwords: model.passwords,
    },
    float: globalVars(ctx),
    logs: logGlobals(ctx),
  };
  for (const [g, vars] of Object.entries(model.groupVars)) groupVars[g] = { ...(groupVars[g] ?? {}), vars: clear(g, vars) };
  groupVars.frontend = { ...(groupVars.frontend ?? {}), float_frontend: frontendVars(ctx), float_public_dns: publicDnsVars(ctx) };
  for (const [g, files] of Object.entries(monitoringGroupVars(ctx))) groupVars[g] = { ...(groupVars[g] ?? {}), ...files };
  viewKeys.forEach((k, i) => {
    groupVars[viewGroupName(i)] = { float_dns: { float_host_dns_map: dnsMap(ctx, k ? k.split(',') : []) } };
  });

  const hostVarsOut: Inventory['hostVars'] = {};
  for (const h of model.hosts) hostVarsOut[h.name] = hostVars(ctx, h);
  return { hostGroups: hostGroupsOut, hostVars: hostVarsOut, groupVars, files: encryptedVarsFiles(model) };
}

/**
 * The operator's vault-encrypted group_vars files, as they are. Their names sort
 * before float's own files of the group (Ansible reads a group's files in name
 * order, later ones winning), in the order float read them.
 */
function encryptedVarsFiles(model: Model): Record<string, string> {
  const files: Record<string, string> = {};
  const count: Record<string, number> = {};
  for (const f of model.encryptedVars ?? []) {
    const n = (count[f.group] = (count[f.group] ?? 0) + 1);
    const base = basename(f.path).replace(/\.ya?ml$/, '').replace(/[^A-Za-z0-9_.-]/g, '_');
    files[`group_vars/${pathSegment(f.group, 'group name')}/00-encrypted-${String(n).padStart(3, '0')}-${base}.yml`] = f.text;
  }
  return files;
}
