// Strings from the configuration are hostile until checked. They become file
// names (host_vars/<host>, x509/<host>/<cred>), user and group names
// (docker-<svc>, <cred>-credentials), DNS and certificate names, nginx
// server_name and location lines, systemd unit lines, podman env files and
// nftables rules: each is checked here, at load time, against what its
// destinations accept, with a positioned diagnostic and a stable code.
import { isIP } from 'node:net';
import type { Diagnostic, Position } from './diagnostics.js';
import type { Model } from './load.js';
import type { Service } from './schema/service.js';
import { at, locate, positionOf, type Sourced } from './source.js';
import { svcPos } from './positions.js';

/** C0 controls other than TAB and LF, DEL, C1 controls, and the Unicode line/paragraph separators. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
/** What may not appear in a one-line value (a name, an image, a unit line): every control character. */
const CONTROL_OR_BREAK = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A DNS label: lowercase letters, digits and inner dashes, 1 to 63 characters. */
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const DNS_NAME_MAX = 253;
/** Debian user and group names: 32 characters at most. */
const USER_NAME_MAX = 32;
const SERVICE_USER_PREFIX = 'docker-';
const CREDENTIALS_GROUP_SUFFIX = '-credentials';
/** Ansible group names: no path separators, no dots, nothing a file name could misread. */
const GROUP_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** A shell (and podman env-file) variable name. */
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/**
 * A URL path nginx and haproxy read as one token: unreserved characters and a
 * few safe sub-delimiters; no whitespace, quotes, `;`, `{`, `}`, `#`, `?`, `$`, `\`.
 */
const URL_PATH = /^[A-Za-z0-9._~@:+,=/-]*$/;
/** A public TCP endpoint name (haproxy section names, nftables comments). */
const TCP_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62})$/;

/** An image reference as registries spell it: [host[:port]/]path[:tag][@digest]. */
const IMAGE_REF = (() => {
  const comp = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
  const host = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?';
  const tag = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
  const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
  return new RegExp(`^(?:${host}/)?${comp}(?:/${comp})*(?::${tag})?(?:@${digest})?$`);
})();
const IMAGE_MAX = 255;

/** A bind mount source (absolute path, or a podman named volume) and target (absolute path, optional options). */
const ABS_PATH = /^\/[A-Za-z0-9._@+=~/-]*$/;
const NAMED_VOLUME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const MOUNT_OPTIONS = /^[A-Za-z0-9,=]+$/;
/** A name used as a file name: no separators, not hidden. */
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/**
 * A DNS name: dot-separated labels, 253 characters at most. `fqdn` names (public
 * domains, which float normalises as DNS does) may also be written in capitals
 * and end with the root's dot.
 */
function isDnsName(name: string, opts: { fqdn?: boolean } = {}): boolean {
  const n = opts.fqdn ? name.toLowerCase().replace(/\.$/, '') : name;
  if (n.length === 0 || n.length > DNS_NAME_MAX) return false;
  return n.split('.').every((l) => DNS_LABEL.test(l));
}

/** Service attribute paths whose strings may span lines (nginx snippets, shell commands, documentation). */
function multilineServicePath(path: readonly PropertyKey[]): boolean {
  // path[0] is the service name.
  const [, attr, , field] = path;
  if (attr === 'annotations') return true;
  if (attr === 'public_endpoints' && field === 'extra_nginx_config') return true;
  if (attr === 'datasets' && (field === 'backup_command' || field === 'restore_command')) return true;
  return false;
}

/** Host attributes float reads itself; every other host attribute is an Ansible variable and may span lines. */
const HOST_FIELDS = new Set(['ips', 'ip', 'ip6', 'public_ips', 'public_ip', 'public_ip6', 'groups', 'resolver_mode', 'shard_id']);
/** Globals that must stay on one line (names, keys written one per line on hosts). */
const ONE_LINE_GLOBALS = new Set(['domain', 'domain_public', 'admins', 'static_host_entries', 'net_overlays', 'apt_proxy', 'nginx_global_custom_headers', 'nginx_top_level_domain_redirects', 'nginx_blocked_user_agents', 'nginx_blocked_urls']);

function describeChar(s: string, re: RegExp): string {
  const c = re.exec(s)![0];
  return `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

function shown(s: string): string {
  return JSON.stringify(s.length > 60 ? s.slice(0, 60) + '…' : s);
}

/**
 * Every string (keys and values) of a sourced tree: control characters are
 * refused everywhere; line breaks and tabs too where `oneLine(path)` says so.
 */
function walkStrings(
  s: Sourced,
  path: PropertyKey[],
  oneLine: (path: readonly PropertyKey[]) => boolean,
  out: Diagnostic[],
): void {
  const check = (value: string, p: readonly PropertyKey[], pos: Position, what: string) => {
    const re = what === 'the key' || oneLine(p) ? CONTROL_OR_BREAK : CONTROL;
    if (!re.test(value)) return;
    out.push({
      code: 'F1010',
      severity: 'error',
      message: `${what} ${shown(value)} contains the control character ${describeChar(value, re)}${re === CONTROL_OR_BREAK ? ' (this value must be one line)' : ''}`,
      pos,
    });
  };
  if (s.kind === 'map') {
    for (const [k, e] of s.entries) {
      const p = [...path, k];
      check(k, p, positionOf(e.keyFile, e.keyNode), 'the key');
      walkStrings(e.value, p, oneLine, out);
    }
  } else if (s.kind === 'seq') {
    s.items.forEach((item, i) => walkStrings(item, [...path, i], oneLine, out));
  } else if (typeof s.value === 'string') {
    check(s.value, path, positionOf(s.file, s.node), 'the value');
  }
}

interface Ctx {
  model: Model;
  out: Diagnostic[];
}


function err(ctx: Ctx, code: Diagnostic['code'], message: string, pos: Position): void {
  ctx.out.push({ code, severity: 'error', message, pos });
}

function checkDnsName(ctx: Ctx, value: string, what: string, pos: Position, opts: { fqdn?: boolean } = {}): void {
  if (!isDnsName(value, opts)) {
    err(ctx, 'F1014', `${what} ${shown(value)} is not a DNS name: lowercase letters, digits and dashes in dot-separated labels of 1-63 characters, 253 in all`, pos);
  }
}

function checkService(ctx: Ctx, s: Service): void {
  const pos = (path: PropertyKey[], key = false) => svcPos(ctx.model, s.name, path, key);
  const user = SERVICE_USER_PREFIX + s.name;
  /** An endpoint name, alone and under each public domain (each is a certificate and server name). */
  const publicName = (name: string, at: Position) => {
    if (!isDnsName(name)) return checkDnsName(ctx, name, 'public endpoint name', at);
    // Domains that are not DNS names are reported on their own.
    const domains = ctx.model.globals.domain_public.filter((d) => isDnsName(d, { fqdn: true }));
    const long = domains.map((d) => `${name}.${d.replace(/\.$/, '')}`).find((n) => !isDnsName(n, { fqdn: true }));
    if (long) checkDnsName(ctx, long, 'public endpoint name with its domain', at);
  };
  if (!DNS_LABEL.test(s.name) || user.length > USER_NAME_MAX) {
    err(
      ctx,
      'F1016',
      `service name '${s.name}' must be a DNS label (lowercase letters, digits, inner dashes) of at most ${USER_NAME_MAX - SERVICE_USER_PREFIX.length} characters: it becomes the host name ${s.name}.<domain> and the user '${user}' (${USER_NAME_MAX} characters at most)`,
      svcPos(ctx.model, s.name, [], true),
    );
  }
  for (const [attr, g] of [['scheduling_group', s.scheduling_group], ['master_scheduling_group', s.master_scheduling_group]] as const) {
    if (g !== undefined && !GROUP_NAME.test(g)) err(ctx, 'F1022', `${attr} ${shown(g)} is not a group name (letters, digits, '_' and '-')`, pos([attr]));
  }
  (s.scheduling_groups ?? []).forEach((g, i) => {
    if (!GROUP_NAME.test(g)) err(ctx, 'F1022', `scheduling_groups entry ${shown(g)} is not a group name (letters, digits, '_' and '-')`, pos(['scheduling_groups', i]));
  });
  s.systemd_services.forEach((u, i) => {
    if (!UNIT_NAME.test(u)) err(ctx, 'F1027', `systemd_services entry ${shown(u)} is not a systemd unit name (name.service, .timer, .socket, …)`, pos(['systemd_services', i]));
  });
  // Dataset and volume names become file and LVM names on the hosts; their paths, mount points.
  for (const kind of ['datasets', 'volumes'] as const) {
    s[kind].forEach((d, i) => {
      if (!FILE_NAME.test(d.name)) err(ctx, 'F1028', `${kind} name ${shown(d.name)}: use letters, digits, '_', '.' and '-' (at most 64, not starting with '.' or '-')`, pos([kind, i, 'name']));
      if (d.path !== undefined && !ABS_PATH.test(d.path)) err(ctx, 'F1028', `${kind} path ${shown(d.path)} is not an absolute path (letters, digits and . _ @ + = ~ - between slashes)`, pos([kind, i, 'path']));
    });
  }
  s.service_credentials.forEach((c, i) => {
    const group = c.name + CREDENTIALS_GROUP_SUFFIX;
    if (!DNS_LABEL.test(c.name) || group.length > USER_NAME_MAX) {
      err(
        ctx,
        'F1012',
        `credential name ${shown(c.name)} must be a DNS label (lowercase letters, digits, inner dashes) of at most ${USER_NAME_MAX - CREDENTIALS_GROUP_SUFFIX.length} characters: it names a directory, the certificate's name and the group '${group}'`,
        pos(['service_credentials', i, 'name']),
      );
    }
    c.extra_san.forEach((san, j) => {
      const at = pos(['service_credentials', i, 'extra_san', j]);
      if (san.includes('*')) err(ctx, 'F1015', `extra_san ${shown(san)}: wildcards are not allowed in service certificates`, at);
      else if (isDnsName(san) && isDnsName(ctx.model.globals.domain)) checkDnsName(ctx, `${san}.${ctx.model.globals.domain}`, 'extra_san with the domain', at);
      else checkDnsName(ctx, san, 'extra_san', at);
    });
  });
  s.public_endpoints.forEach((e, i) => {
    if (e.name !== undefined) publicName(e.name, pos(['public_endpoints', i, 'name']));
    (e.domains ?? []).forEach((d, j) => checkDnsName(ctx, d, 'public endpoint domain', pos(['public_endpoints', i, 'domains', j]), { fqdn: true }));
    if (e.path !== undefined) checkPath(ctx, e.path, pos(['public_endpoints', i, 'path']));
  });
  s.horizontal_endpoints.forEach((e, i) => checkPath(ctx, e.path, pos(['horizontal_endpoints', i, 'path'])));
  s.public_other_endpoints.forEach((e, i) => publicName(e.name, pos(['public_other_endpoints', i, 'name'])));
  s.public_tcp_endpoints.forEach((e, i) => {
    if (!TCP_NAME.test(e.name)) {
      err(ctx, 'F1021', `public TCP endpoint name ${shown(e.name)}: use letters, digits, '_' and '-' (at most 63, starting with a letter or digit)`, pos(['public_tcp_endpoints', i, 'name']));
    }
  });
  s.containers.forEach((c, i) => {
    const cpos = (p: PropertyKey[], key = false) => pos(['containers', i, ...p], key);
    if (c.image.length > IMAGE_MAX || !IMAGE_REF.test(c.image)) {
      err(ctx, 'F1019', `container image ${shown(c.image)} is not an image reference ([registry[:port]/]name[:tag][@digest], no spaces)`, cpos(['image']));
    }
    for (const k of Object.keys(c.env)) {
      if (!ENV_KEY.test(k)) err(ctx, 'F1018', `environment variable name ${shown(k)}: use letters, digits and '_', not starting with a digit`, cpos(['env', k], true));
    }
    const mounts = c.volumes === undefined ? [] : Array.isArray(c.volumes) ? c.volumes.map((m, j) => ({ m, p: [j] as PropertyKey[] })) : [{ m: c.volumes, p: [] as PropertyKey[] }];
    for (const { m, p } of mounts) {
      for (const [src, dst] of Object.entries(m)) {
        const [target, options, ...rest] = dst.split(':');
        const srcOk = src === 'tmpfs' || ABS_PATH.test(src) || NAMED_VOLUME.test(src);
        const dstOk = ABS_PATH.test(target) && rest.length === 0 && (options === undefined || (src !== 'tmpfs' && MOUNT_OPTIONS.test(options)));
        if (!srcOk) err(ctx, 'F1020', `volume source ${shown(src)}: use an absolute path, a volume name or 'tmpfs' (no spaces, ':' or ',')`, cpos(['volumes', ...p, src], true));
        if (!dstOk) err(ctx, 'F1020', `volume target ${shown(dst)}: use an absolute path, optionally followed by ':' and mount options`, cpos(['volumes', ...p, src]));
      }
    }
    if (c.root && at(ctx.model.sources.services, [s.name, 'containers', i, 'egress_policy']) && c.egress_policy !== 'allow-all') {
      ctx.out.push({
        code: 'F1023',
        severity: 'warning',
        message: `container '${c.name}' runs as root: its egress_policy '${c.egress_policy}' cannot hold (the policy matches the service user, and root can change the firewall)`,
        pos: cpos(['egress_policy']),
      });
    }
  });
}

function checkPath(ctx: Ctx, path: string, pos: Position): void {
  const segments = path.split('/');
  if (!URL_PATH.test(path) || segments.includes('..') || segments.includes('.')) {
    err(ctx, 'F1017', `endpoint path ${shown(path)} is not a safe URL path: use letters, digits and . _ ~ @ : + , = - between slashes (no spaces, quotes, ; { } # ? $ % \\ or '..' segments)`, pos);
  }
}

function checkHosts(ctx: Ctx): void {
  const hpos = (host: string, path: PropertyKey[], key = false) => locate(ctx.model.sources.hosts, ['hosts', host, ...path], { key });
  for (const h of ctx.model.hosts) {
    if (!DNS_LABEL.test(h.name)) {
      err(ctx, 'F1011', `host name ${shown(h.name)} must be a DNS label: lowercase letters, digits and inner dashes, 1-63 characters`, hpos(h.name, [], true));
    }
    if (h.shard_id !== undefined && !DNS_LABEL.test(h.shard_id)) {
      err(ctx, 'F1013', `shard_id ${shown(h.shard_id)} must be a DNS label: lowercase letters, digits and inner dashes, 1-63 characters`, hpos(h.name, ['shard_id']));
    }
    h.groups.forEach((g, i) => {
      if (!GROUP_NAME.test(g)) err(ctx, 'F1022', `group name ${shown(g)}: use letters, digits, '_' and '-'`, hpos(h.name, ['groups', i]));
    });
  }
  for (const [g, s] of ctx.model.sources.groupVars ?? new Map<string, Sourced>()) {
    if (!GROUP_NAME.test(g)) err(ctx, 'F1022', `group name ${shown(g)}: use letters, digits, '_' and '-'`, groupKeyPos(ctx, g, s));
  }
}

/** The group's key in hosts.yml group_vars, else where its variables start. */
function groupKeyPos(ctx: Ctx, g: string, s: Sourced): Position {
  const hs = ctx.model.sources.hosts;
  if (hs.kind === 'map' && hs.entries.get('group_vars')?.value.kind === 'map') return locate(hs, ['group_vars', g], { key: true });
  return positionOf(s.file, s.node);
}

/** An HTTP header name (RFC 9110 token, without what nginx would read as a variable). */
const HEADER_NAME = /^[A-Za-z0-9!#%&'*+.^_`|~-]+$/;
/** A redirect target: an http(s) URL nginx reads as one token. */
const REDIRECT_URL = /^https?:\/\/[^\s"'`;{}\\]+$/;
/** A systemd unit name. */
const UNIT_NAME = /^[A-Za-z0-9:_.\\@-]+\.(service|socket|timer|path|mount|target)$/;

function checkGlobals(ctx: Ctx): void {
  const g = ctx.model.globals;
  const gs = ctx.model.sources.globals;
  checkDnsName(ctx, g.domain, 'domain', locate(gs, ['domain']));
  g.domain_public.forEach((d, i) => checkDnsName(ctx, d, 'domain_public entry', locate(gs, ['domain_public', i]), { fqdn: true }));
  g.static_host_entries.forEach((e, i) => {
    checkDnsName(ctx, e.host, 'static_host_entries host', locate(gs, ['static_host_entries', i, 'host']), { fqdn: true });
    if (isIP(e.addr) === 0) err(ctx, 'F1026', `static_host_entries addr ${shown(e.addr)} is not an IP address`, locate(gs, ['static_host_entries', i, 'addr']));
  });
  const nginx = (message: string, path: PropertyKey[], key = false) => err(ctx, 'F1025', message, locate(gs, path, { key }));
  for (const [h, v] of Object.entries(g.nginx_global_custom_headers)) {
    if (!HEADER_NAME.test(h)) nginx(`nginx_global_custom_headers: ${shown(h)} is not an HTTP header name`, ['nginx_global_custom_headers', h], true);
    if (/["\\]/.test(v)) nginx(`nginx_global_custom_headers.${h}: ${shown(v)} may not contain '"' or '\\'`, ['nginx_global_custom_headers', h]);
  }
  for (const [name, url] of Object.entries(g.nginx_top_level_domain_redirects)) {
    checkDnsName(ctx, name, 'nginx_top_level_domain_redirects name', locate(gs, ['nginx_top_level_domain_redirects', name], { key: true }));
    if (!REDIRECT_URL.test(url)) nginx(`nginx_top_level_domain_redirects.${name}: ${shown(url)} is not an http(s) URL without spaces, quotes, ';', '{' or '}'`, ['nginx_top_level_domain_redirects', name]);
  }
  for (const key of ['nginx_blocked_user_agents', 'nginx_blocked_urls'] as const) {
    const list = (g as Record<string, unknown>)[key];
    if (!Array.isArray(list)) continue;
    list.forEach((v: unknown, i) => {
      if (typeof v === 'string' && (/"/.test(v) || /\\$/.test(v) || (key === 'nginx_blocked_urls' && /\s/.test(v)))) {
        nginx(`${key}: ${shown(v)} may not contain '"'${key === 'nginx_blocked_urls' ? ' or spaces' : ''}, nor end with '\\'`, [key, i]);
      }
    });
  }
}

/** All the checks of configuration strings: F1010-F1028. */
export function hostileStringChecks(model: Model): Diagnostic[] {
  const ctx: Ctx = { model, out: [] };
  // config.yml: file names and settings, all one line.
  walkStrings(model.sources.config, [], () => true, ctx.out);
  // Services: every value is one line but documentation, nginx snippets and shell commands.
  walkStrings(model.sources.services, [], (p) => !multilineServicePath(p), ctx.out);
  // Hosts: the attributes float reads are one line; other host variables belong to Ansible.
  walkStrings(model.sources.hosts, [], (p) => p[0] === 'hosts' && (HOST_FIELDS.has(String(p[2])) || /^ip_/.test(String(p[2]))), ctx.out);
  walkStrings(model.sources.globals, [], (p) => ONE_LINE_GLOBALS.has(String(p[0])), ctx.out);
  for (const [g, s] of model.sources.groupVars ?? []) if (g !== 'all') walkStrings(s, [], () => false, ctx.out);
  for (const s of model.services) checkService(ctx, s);
  checkHosts(ctx);
  checkGlobals(ctx);
  // A value reached by two walks (hosts.yml group_vars are also group variables) is reported once.
  const once = new Map<string, Diagnostic>();
  for (const d of ctx.out) once.set(`${d.pos ? `${d.pos.file}:${d.pos.line}:${d.pos.col}` : ''} ${d.code} ${d.message}`, d);
  return [...once.values()];
}
