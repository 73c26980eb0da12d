// The description of a local test environment (EnvSpec), read from a float
// configuration: config.yml's `test_env` map plus the hosts of hosts.yml.
//
//   # config.yml
//   test_env:
//     network: 10.123.45.0/24   # optional: default, the /24 holding the hosts' addresses
//     gateway: 10.123.45.1      # optional: default, the network's first address (on the bridge)
//     bridge: flt-demo          # optional: default fb-<hash> (at most 15 characters)
//     name: demo                # optional: default derived from the directory of config.yml
//     state_dir: .float-env     # optional, relative to config.yml
//     ssh_key: .float-env/ssh/id_ed25519  # optional, relative to config.yml
//
// Each host of hosts.yml boots with its first IPv4 address (`ips: [...]` or `ip:`).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, type Node } from 'yaml';
import { type Diagnostic, FloatUserError } from '../config/diagnostics.js';
import type { Log } from './sys.js';

export interface EnvHost {
  name: string;
  ip: string;
}

export interface EnvSpec {
  /** Short environment id: names the network namespaces (float-<name>-<host>). */
  name: string;
  /** The bridge the hosts are plugged into (at most 15 characters). */
  bridge: string;
  /** The hosts' network, CIDR (e.g. 10.123.45.0/24). */
  network: string;
  /** The bridge's address: the hosts' default gateway. */
  gateway: string;
  hosts: EnvHost[];
  /** Where float env keeps the hosts' disks, logs and state (inside the environment's directory). */
  stateDir: string;
  /** Private key of the environment; root's authorized_keys on every host gets its .pub. */
  sshKeyPath: string;
  /** Progress lines (default: stderr). */
  log?: Log;
}

// ---- IPv4 helpers --------------------------------------------------------------

export function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr {
  base: number;
  prefix: number;
}

export function parseCidr(s: string): Cidr | undefined {
  const [addr, len, ...rest] = s.trim().split('/');
  if (rest.length) return undefined;
  const a = parseIPv4(addr);
  const prefix = len === undefined ? 32 : /^\d{1,2}$/.test(len) ? Number(len) : NaN;
  if (a === undefined || !(prefix >= 0 && prefix <= 32)) return undefined;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (a & mask) >>> 0, prefix };
}

function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function cidrContains(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip < c.base + cidrSize(c);
}

export function cidrOverlap(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + cidrSize(b) && b.base < a.base + cidrSize(a);
}

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

/** What the machine already routes or uses (except through bridge): test networks must not overlap it. */
export function usedNetworks(exceptDev?: string): { cidr: Cidr; what: string }[] {
  const out: { cidr: Cidr; what: string }[] = [];
  try {
    const routes = JSON.parse(execFileSync('ip', ['-j', '-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' })) as {
      dst: string;
      dev?: string;
    }[];
    for (const r of routes) {
      if (r.dst === 'default' || (exceptDev && r.dev === exceptDev)) continue;
      const c = parseCidr(r.dst);
      if (c) out.push({ cidr: c, what: `route ${r.dst}${r.dev ? ` dev ${r.dev}` : ''}` });
    }
  } catch {
    // no ip(8): requireTools reports it
  }
  try {
    for (const line of readFileSync('/etc/resolv.conf', 'utf8').split('\n')) {
      const m = /^\s*nameserver\s+(\S+)/.exec(line);
      const a = m ? parseIPv4(m[1]) : undefined;
      if (a !== undefined) out.push({ cidr: { base: a, prefix: 32 }, what: `name server ${m![1]}` });
    }
  } catch {
    // no resolv.conf
  }
  return out;
}

/** A random free 10.x.y.0/24 (for tests and `create-env --local`). */
export function pickFreeNetwork(): string {
  const used = usedNetworks();
  for (let i = 0; i < 1000; i++) {
    const c: Cidr = { base: ((10 << 24) >>> 0) + ((1 + Math.floor(Math.random() * 250)) << 16) + (Math.floor(Math.random() * 256) << 8), prefix: 24 };
    if (!used.some((u) => cidrOverlap(u.cidr, c))) return formatCidr(c);
  }
  throw new Error('no free 10.x.y.0/24 network on this machine');
}

// ---- names -----------------------------------------------------------------------

function shortHash(s: string, n: number): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n);
}

const HOST_NAME = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/i;
const ENV_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

export function netnsName(spec: Pick<EnvSpec, 'name'>, host: string): string {
  return `float-${spec.name}-${host}`;
}

/** The host-side end of a host's veth pair (interface names have at most 15 characters). */
export function vethName(spec: Pick<EnvSpec, 'name'>, host: string): string {
  return `fv-${shortHash(`${spec.name}/${host}`, 10)}`;
}

export function defaultEnvName(dir: string): string {
  const base = basename(dir).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 16).replace(/-+$/, '');
  return `${base || 'env'}-${shortHash(resolve(dir), 4)}`;
}

export function defaultBridgeName(envName: string): string {
  return `fb-${shortHash(envName, 8)}`;
}

/** Checks a spec (names, addresses); throws FloatUserError listing every problem. */
export function validateSpec(spec: EnvSpec, where = 'test_env', hostsWhere?: string): Cidr {
  const errs: string[] = [];
  const hp = hostsWhere ? `${hostsWhere}: ` : '';
  if (!ENV_NAME.test(spec.name)) errs.push(`${where}: name '${spec.name}' must be lower-case letters, digits and '-' (at most 32)`);
  if (!IFNAME.test(spec.bridge)) errs.push(`${where}: bridge '${spec.bridge}' is not a valid interface name (at most 15 characters)`);
  const net = parseCidr(spec.network);
  if (!net || !spec.network.includes('/')) errs.push(`${where}: network '${spec.network}' is not an IPv4 CIDR like 10.1.2.0/24`);
  else if (net.prefix > 29 || net.prefix < 8) errs.push(`${where}: network ${spec.network}: the prefix length must be between 8 and 29`);
  const gw = parseIPv4(spec.gateway);
  if (gw === undefined) errs.push(`${where}: gateway '${spec.gateway}' is not an IPv4 address`);
  else if (net && !cidrContains(net, gw)) errs.push(`${where}: gateway ${spec.gateway} is outside ${spec.network}`);
  if (spec.hosts.length === 0) errs.push(`${hp}the hosts file lists no hosts`);
  const seen = new Map<string, string>();
  for (const h of spec.hosts) {
    if (!HOST_NAME.test(h.name)) errs.push(`${hp}host '${h.name}': a test host name must be a DNS label (letters, digits, '-', at most 40)`);
    const a = parseIPv4(h.ip);
    if (a === undefined) {
      errs.push(`${hp}host ${h.name}: '${h.ip}' is not an IPv4 address`);
      continue;
    }
    if (net && !cidrContains(net, a)) errs.push(`${hp}host ${h.name}: ${h.ip} is outside the test network ${spec.network}`);
    if (net && (a === net.base || a === net.base + cidrSize(net) - 1)) errs.push(`${hp}host ${h.name}: ${h.ip} is the network or broadcast address`);
    if (a === gw) errs.push(`${hp}host ${h.name}: ${h.ip} is the gateway address (the bridge's)`);
    const other = seen.get(h.ip);
    if (other) errs.push(`${hp}hosts ${other} and ${h.name} both use ${h.ip}`);
    seen.set(h.ip, h.name);
  }
  if (errs.length) throw new FloatUserError(errs.join('\n'), 'F1002');
  return net!;
}

// ---- config.yml -> spec ---------------------------------------------------------------

function readYaml(path: string): { value: unknown; node: (keys: string[]) => Node | undefined; lc: LineCounter } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new FloatUserError([{ code: 'F1005', severity: 'error', message: `cannot read ${path}: ${(e as Error).message}` }]);
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  if (doc.errors.length) {
    throw new FloatUserError(
      doc.errors.map((e) => ({
        code: 'F1000' as const,
        severity: 'error' as const,
        message: e.message.split('\n')[0],
        pos: { file: path, line: e.linePos?.[0].line ?? 1, col: e.linePos?.[0].col ?? 1 },
      })),
    );
  }
  return {
    value: doc.toJS(),
    node: (keys) => {
      const n = doc.getIn(keys, true);
      return n && typeof n === 'object' ? (n as Node) : undefined;
    },
    lc,
  };
}

function diag(file: string, lc: LineCounter, node: Node | undefined, message: string, code: Diagnostic['code'] = 'F1002'): Diagnostic {
  const off = node?.range?.[0];
  const p = off !== undefined ? lc.linePos(off) : { line: 1, col: 1 };
  return { code, severity: 'error', message, pos: { file, line: p.line, col: p.col } };
}

/** Reads config.yml (and its hosts file) into an EnvSpec. */
export function specFromConfig(configPath: string, log?: Log): EnvSpec {
  const cfgPath = resolve(configPath);
  const dir = dirname(cfgPath);
  const cfg = readYaml(cfgPath);
  const top = (cfg.value ?? {}) as Record<string, unknown>;
  const te = top.test_env;
  if (te === undefined || te === null) {
    throw new FloatUserError([
      diag(
        cfgPath,
        cfg.lc,
        undefined,
        'config.yml has no test_env: add e.g. `test_env: {network: 10.123.45.0/24}` (keys: network, gateway, bridge, name, state_dir, ssh_key) to boot its hosts locally',
        'F1003',
      ),
    ]);
  }
  if (!isMap(cfg.node(['test_env']))) {
    throw new FloatUserError([diag(cfgPath, cfg.lc, cfg.node(['test_env']), 'test_env must be a map (network, gateway, bridge, name, state_dir, ssh_key)')]);
  }
  const t = te as Record<string, unknown>;
  const errs: Diagnostic[] = [];
  const KEYS = ['network', 'gateway', 'bridge', 'name', 'state_dir', 'ssh_key'];
  for (const k of Object.keys(t)) {
    if (!KEYS.includes(k)) errs.push(diag(cfgPath, cfg.lc, cfg.node(['test_env', k]), `test_env: unknown key '${k}' (known: ${KEYS.join(', ')})`, 'F1001'));
    else if (typeof t[k] !== 'string') errs.push(diag(cfgPath, cfg.lc, cfg.node(['test_env', k]), `test_env.${k} must be a string`));
  }
  if (errs.length) throw new FloatUserError(errs);
  const str = (k: string) => t[k] as string | undefined;
  const hostsFile = resolve(dir, typeof top.hosts_file === 'string' ? top.hosts_file : 'hosts.yml');
  const hy = readYaml(hostsFile);
  const hostsMap = ((hy.value ?? {}) as Record<string, unknown>).hosts;
  if (!hostsMap || typeof hostsMap !== 'object' || Array.isArray(hostsMap)) {
    throw new FloatUserError([diag(hostsFile, hy.lc, hy.node(['hosts']), 'the hosts file has no `hosts:` map', 'F1003')]);
  }
  const hosts: EnvHost[] = [];
  for (const [name, raw] of Object.entries(hostsMap as Record<string, unknown>)) {
    const attrs = (raw ?? {}) as Record<string, unknown>;
    const cands = [...(Array.isArray(attrs.ips) ? attrs.ips : []), attrs.ip].filter((x): x is string => typeof x === 'string');
    const ip = cands.find((c) => parseIPv4(c) !== undefined);
    if (!ip) {
      errs.push(diag(hostsFile, hy.lc, hy.node(['hosts', name]), `host ${name} has no IPv4 address (ips: [...] or ip:) to boot it with`, 'F1003'));
      continue;
    }
    hosts.push({ name, ip });
  }
  if (errs.length) throw new FloatUserError(errs);
  let network = str('network');
  if (network === undefined) {
    const nets = new Set(hosts.map((h) => formatCidr(parseCidr(`${h.ip}/24`)!)));
    if (nets.size !== 1) {
      throw new FloatUserError([
        diag(cfgPath, cfg.lc, cfg.node(['test_env']), `test_env.network is needed: the hosts' addresses span ${[...nets].join(', ') || 'no network'}`, 'F1003'),
      ]);
    }
    network = [...nets][0];
  }
  const netC = parseCidr(network);
  const gateway = str('gateway') ?? (netC ? formatIPv4(netC.base + 1) : '');
  const name = str('name') ?? defaultEnvName(dir);
  const abs = (p: string) => (isAbsolute(p) ? p : join(dir, p));
  const stateDir = abs(str('state_dir') ?? '.float-env');
  const spec: EnvSpec = {
    name,
    bridge: str('bridge') ?? defaultBridgeName(name),
    network,
    gateway,
    hosts,
    stateDir,
    sshKeyPath: str('ssh_key') ? abs(str('ssh_key')!) : join(stateDir, 'ssh', 'id_ed25519'),
    log,
  };
  validateSpec(spec, `${cfgPath}: test_env`, hostsFile);
  return spec;
}
