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
import { createHash, randomBytes } from 'node:crypto';
import { IPv4, IPv4CidrRange, IPv4Prefix, Validator } from 'ip-num';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { Node } from 'yaml';
import { type Diagnostic, FloatUserError } from '../config/diagnostics.js';
import { testEnv } from '../config/schema/config.js';
import { at, locate, plain, readYamlFile, toSourced, type Sourced } from '../config/source.js';
import { validate } from '../config/validate.js';

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

// ---- IPv4 (ip-num, as everywhere else in float) ---------------------------------

/** An IPv4 network: its first address and prefix length. */
export type Cidr = IPv4CidrRange;

/** An IPv4 address as a number, or undefined when s is not one. */
export function parseIPv4(s: string): bigint | undefined {
  const t = s.trim();
  return Validator.isValidIPv4String(t)[0] ? IPv4.fromDecimalDottedString(t).getValue() : undefined;
}

/** "A.B.C.D/N" (or a bare address, /32) as the network holding it; undefined when malformed. */
export function parseCidr(s: string): Cidr | undefined {
  const [addr, len, ...rest] = s.trim().split('/');
  if (rest.length || (len !== undefined && !/^\d{1,2}$/.test(len))) return undefined;
  const a = parseIPv4(addr);
  const prefix = len === undefined ? 32 : Number(len);
  if (a === undefined || prefix > 32) return undefined;
  const size = 1n << BigInt(32 - prefix);
  return new IPv4CidrRange(IPv4.fromNumber(a - (a % size)), IPv4Prefix.fromNumber(BigInt(prefix)));
}

export const prefixLength = (c: Cidr): number => Number(c.cidrPrefix.getValue());
export const formatCidr = (c: Cidr): string => c.toCidrString();
const cidrContains = (c: Cidr, ip: bigint): boolean => ip >= c.getFirst().getValue() && ip <= c.getLast().getValue();
export const cidrOverlap = (a: Cidr, b: Cidr): boolean => a.isOverlapping(b);
/** The n-th address of a network (0: the network address itself). */
const nthAddress = (c: Cidr, n: number): string => IPv4.fromNumber(c.getFirst().getValue() + BigInt(n)).toString();

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
      const c = m ? parseCidr(m[1]) : undefined;
      if (c) out.push({ cidr: c, what: `name server ${m![1]}` });
    }
  } catch {
    // no resolv.conf
  }
  return out;
}

/**
 * A random 10.x.y.0/24: for local test hosts (tests, `create-env --local`) one that
 * nothing on this machine routes or uses; for hosts elsewhere (Vagrant) any.
 */
export function pickFreeNetwork(opts: { onThisMachine?: boolean } = {}): string {
  const used = opts.onThisMachine === false ? [] : usedNetworks();
  for (let i = 0; i < 1000; i++) {
    const b = randomBytes(2);
    const c = parseCidr(`10.${b[0]}.${b[1]}.0/24`)!;
    if (!used.some((u) => cidrOverlap(u.cidr, c))) return formatCidr(c);
  }
  throw new FloatUserError('no free 10.x.y.0/24 network for the test environment on this machine', 'F1002');
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

function defaultEnvName(dir: string): string {
  const base = basename(dir).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 16).replace(/-+$/, '');
  return `${base || 'env'}-${shortHash(resolve(dir), 4)}`;
}

function defaultBridgeName(envName: string): string {
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
  else if (prefixLength(net) > 29 || prefixLength(net) < 8) errs.push(`${where}: network ${spec.network}: the prefix length must be between 8 and 29`);
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
    if (net && (a === net.getFirst().getValue() || a === net.getLast().getValue())) errs.push(`${hp}host ${h.name}: ${h.ip} is the network or broadcast address`);
    if (a === gw) errs.push(`${hp}host ${h.name}: ${h.ip} is the gateway address (the bridge's)`);
    const other = seen.get(h.ip);
    if (other) errs.push(`${hp}hosts ${other} and ${h.name} both use ${h.ip}`);
    seen.set(h.ip, h.name);
  }
  if (errs.length) throw new FloatUserError(errs.join('\n'), 'F1002');
  return net!;
}

// ---- config.yml -> spec ---------------------------------------------------------------

function readOrThrow(path: string): Sourced {
  const diags: Diagnostic[] = [];
  const file = readYamlFile(path, diags);
  const s = file && toSourced(file, file.doc.contents as Node | null, diags);
  if (!s) throw new FloatUserError(diags);
  return s;
}

/** Reads config.yml (and its hosts file) into an EnvSpec. */
export function specFromConfig(configPath: string, log?: Log): EnvSpec {
  const cfgPath = resolve(configPath);
  const dir = dirname(cfgPath);
  const cfg = readOrThrow(cfgPath);
  const teSource = at(cfg, ['test_env']);
  if (!teSource || (teSource.kind === 'scalar' && teSource.value === null)) {
    throw new FloatUserError([
      {
        code: 'F1003',
        severity: 'error',
        message: 'config.yml has no test_env: add e.g. `test_env: {network: 10.123.45.0/24}` (keys: network, gateway, bridge, name, state_dir, ssh_key) to boot its hosts locally',
        pos: locate(cfg, []),
      },
    ]);
  }
  const diags: Diagnostic[] = [];
  const t = validate(testEnv, teSource, diags, { prefix: ['test_env'], what: 'test_env attribute' });
  if (!t) throw new FloatUserError(diags);
  const hostsFileName = at(cfg, ['hosts_file']);
  const hostsFile = resolve(dir, hostsFileName?.kind === 'scalar' && typeof hostsFileName.value === 'string' ? hostsFileName.value : 'hosts.yml');
  const hy = readOrThrow(hostsFile);
  const hostsMap = at(hy, ['hosts']);
  if (hostsMap?.kind !== 'map') {
    throw new FloatUserError([{ code: 'F1003', severity: 'error', message: 'the hosts file has no `hosts:` map', pos: locate(hostsMap ?? hy, []) }]);
  }
  const hosts: EnvHost[] = [];
  for (const [name, entry] of hostsMap.entries) {
    const attrs = (plain(entry.value) ?? {}) as Record<string, unknown>;
    const cands = [...(Array.isArray(attrs.ips) ? attrs.ips : []), attrs.ip].filter((x): x is string => typeof x === 'string');
    const ip = cands.find((c) => parseIPv4(c) !== undefined);
    if (!ip) {
      diags.push({ code: 'F1003', severity: 'error', message: `host ${name} has no IPv4 address (ips: [...] or ip:) to boot it with`, pos: locate(hostsMap, [name], { key: true }) });
      continue;
    }
    hosts.push({ name, ip });
  }
  if (diags.length) throw new FloatUserError(diags);
  let network = t.network;
  if (network === undefined) {
    const nets = new Set(hosts.map((h) => formatCidr(parseCidr(`${h.ip}/24`)!)));
    if (nets.size !== 1) {
      throw new FloatUserError([
        {
          code: 'F1003',
          severity: 'error',
          message: `test_env.network is needed: the hosts' addresses span ${[...nets].join(', ') || 'no network'}`,
          pos: locate(teSource, []),
        },
      ]);
    }
    network = [...nets][0];
  }
  const netC = parseCidr(network);
  const gateway = t.gateway ?? (netC ? nthAddress(netC, 1) : '');
  const name = t.name ?? defaultEnvName(dir);
  const abs = (p: string) => (isAbsolute(p) ? p : join(dir, p));
  const stateDir = abs(t.state_dir ?? '.float-env');
  const spec: EnvSpec = {
    name,
    bridge: t.bridge ?? defaultBridgeName(name),
    network,
    gateway,
    hosts,
    stateDir,
    sshKeyPath: t.ssh_key ? abs(t.ssh_key) : join(stateDir, 'ssh', 'id_ed25519'),
    log,
  };
  validateSpec(spec, `${cfgPath}: test_env`, hostsFile);
  return spec;
}
