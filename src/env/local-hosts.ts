// Local test hosts: real Debian bookworm systems booted on this machine with
// systemd-nspawn, each in its own network namespace plugged into a private bridge,
// reachable over SSH with the environment's key (see DESIGN.md, "Testing for real",
// and notes/test-hosts-and-podman.md).
//
// For an environment (EnvSpec) float env creates, and envDown removes again:
//   - the bridge spec.bridge holding spec.gateway, and one NAT rule
//     (POSTROUTING -s NETWORK ! -o BRIDGE -j MASQUERADE) so the hosts reach Debian's
//     mirror; ip_forward is switched on (and back off by the last float env to go
//     down, when float turned it on);
//   - per host: a network namespace float-<env>-<host> with a veth pair (eth0 inside
//     with the host's address and a default route via the gateway, fv-<hash> on the
//     bridge); a copy-on-write root (overlayfs over the cached rootfs, upper and work
//     directories in spec.stateDir; a plain copy when overlayfs is unavailable); its own
//     cgroup in every hierarchy (<float's cgroup>/float-env/<env>-<host>); and a
//     detached systemd-nspawn that boots it and outlives the float process.
// Everything else lives in spec.stateDir (with a .gitignore of '*'):
//   state.json                 what was created (pids, modes, rootfs stamp)
//   hosts/NAME/{root,upper,work}  the host's disk
//   hosts/NAME/containers      bind-mounted on /var/lib/containers (podman's overlay
//                              driver cannot work on top of an overlayfs root)
//   logs/NAME.console.log      systemd-nspawn's output (the host's console) of the
//                              last boot; kept by envDown for post-mortems
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import { FloatUserError } from '../config/diagnostics.js';
import { STAMP_FILE, cachedStamp, ensureRootfs, pruneOldRootfs } from './rootfs.js';
import { type Cidr, type EnvHost, type EnvSpec, cidrOverlap, formatCidr, netnsName, parseCidr, prefixLength, usedNetworks, validateSpec, vethName } from './spec.js';
import { ensureSshKey, sshOptions } from './ssh-key.js';
import {
  type Log,
  allPids,
  createCgroups,
  descendants,
  formatSeconds,
  inCgroups,
  isMountPoint,
  isNamespaceInit,
  killIfSame,
  killQuiet,
  ownCgroupDirs,
  processAlive,
  procRef,
  type ProcRef,
  stillRunning,
  processCmdline,
  removeCgroups,
  removeTree,
  requireRoot,
  requireTools,
  run,
  sleep,
  stderrLog,
  unmountTree,
} from './sys.js';

export type { EnvHost, EnvSpec } from './spec.js';

/** The tools envUp drives. */
const ENV_TOOLS = ['debootstrap', 'systemd-nspawn', 'ip', 'iptables', 'ssh', 'ssh-keygen', 'mount', 'umount', 'cp'];

/** SIGRTMIN+3: systemd's "halt" request (glibc's SIGRTMIN is 34). */
const SIGRTMIN_PLUS_3 = 37;

/** Present while float env has switched net.ipv4.ip_forward on (it was off before). */
const IP_FORWARD_MARK = '/run/float-env/ip_forward';

const BOOT_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 15_000;

export interface HostState {
  ip: string;
  pid?: number;
  mode?: 'overlay' | 'copy';
  stamp?: string;
  /** The host's own cgroups (one per hierarchy), which systemd-nspawn runs in. */
  cgroups?: string[];
}

export interface EnvState {
  name: string;
  bridge: string;
  network: string;
  gateway: string;
  hosts: Record<string, HostState>;
}

/** ready: `ssh root@IP true` works; port-open: only TCP 22 answers; unchecked: not probed. */
export type SshState = 'ready' | 'port-open' | 'down' | 'unchecked';

export interface HostStatus {
  name: string;
  ip: string;
  netns: string;
  running: boolean;
  pid?: number;
  mounted: boolean;
  ssh: SshState;
}

export interface EnvStatus {
  name: string;
  network: string;
  bridge: string;
  bridgeUp: boolean;
  nat: boolean;
  sshKeyPath: string;
  hosts: HostStatus[];
}

// ---- state ------------------------------------------------------------------

function statePath(spec: Pick<EnvSpec, 'stateDir'>): string {
  return join(spec.stateDir, 'state.json');
}

function hostDir(spec: EnvSpec, host: string): string {
  return join(spec.stateDir, 'hosts', host);
}

function hostRoot(spec: EnvSpec, host: string): string {
  return join(hostDir(spec, host), 'root');
}

/**
 * What envUp recorded. Absent: nothing was created. Unreadable or malformed: an
 * error naming the file, never "nothing": env down would then forget the
 * processes, mounts and links it must remove.
 */
function loadState(spec: Pick<EnvSpec, 'stateDir' | 'name' | 'bridge' | 'network' | 'gateway'>): EnvState {
  const file = statePath(spec);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { name: spec.name, bridge: spec.bridge, network: spec.network, gateway: spec.gateway, hosts: {} };
    }
    throw new FloatUserError(`cannot read the test environment's state ${file}: ${(err as Error).message}`, 'F3010');
  }
  const bad = (why: string) =>
    new FloatUserError(
      `${file}: ${why}; it records the hosts' processes, mounts and links that env down must remove: repair it, or stop them by hand and delete it`,
      'F3010',
    );
  let s: unknown;
  try {
    s = JSON.parse(text);
  } catch (err) {
    throw bad(`not valid JSON (${(err as Error).message})`);
  }
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw bad('expected a JSON object');
  const o = s as Record<string, unknown>;
  for (const k of ['name', 'bridge', 'network', 'gateway'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'string') throw bad(`"${k}" must be a string`);
  }
  const hosts = o.hosts ?? {};
  if (typeof hosts !== 'object' || hosts === null || Array.isArray(hosts)) throw bad('"hosts" must be an object');
  for (const [h, hs] of Object.entries(hosts as Record<string, unknown>)) {
    if (typeof hs !== 'object' || hs === null || Array.isArray(hs)) throw bad(`hosts.${h} must be an object`);
    const x = hs as Record<string, unknown>;
    if (x.pid !== undefined && !(Number.isInteger(x.pid) && (x.pid as number) > 0)) throw bad(`hosts.${h}.pid must be a positive integer`);
    if (x.cgroups !== undefined && !(Array.isArray(x.cgroups) && x.cgroups.every((c) => typeof c === 'string'))) {
      throw bad(`hosts.${h}.cgroups must be a list of paths`);
    }
  }
  return {
    name: (o.name as string | undefined) ?? spec.name,
    bridge: (o.bridge as string | undefined) ?? spec.bridge,
    network: (o.network as string | undefined) ?? spec.network,
    gateway: (o.gateway as string | undefined) ?? spec.gateway,
    hosts: hosts as Record<string, HostState>,
  };
}

function saveState(spec: EnvSpec, state: EnvState): void {
  mkdirSync(spec.stateDir, { recursive: true });
  const tmp = `${statePath(spec)}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  renameSync(tmp, statePath(spec));
}

// ---- processes ----------------------------------------------------------------

/** The systemd-nspawn processes booting root (normally one). */
function nspawnPids(root: string, hint?: number): number[] {
  const isOurs = (pid: number) => {
    const argv = processCmdline(pid);
    if (!argv[0]?.endsWith('systemd-nspawn') || !processAlive(pid)) return false;
    const i = argv.indexOf('-D');
    return i >= 0 && argv[i + 1] === root;
  };
  if (hint && isOurs(hint)) return [hint];
  return allPids().filter(isOurs);
}

/** The container's init (the "leader"): the descendant of systemd-nspawn that is PID 1 of its namespace. */
function leaderOf(nspawnPid: number): number | undefined {
  return descendants(nspawnPid).find(isNamespaceInit);
}

async function waitGone(procs: ProcRef[], timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (!procs.some(stillRunning)) return true;
    await sleep(100);
  }
  return !procs.some(stillRunning);
}

/** The processes now running as these pids (the ones already gone left out). */
const refs = (pids: number[]): ProcRef[] => pids.map(procRef).filter((p): p is ProcRef => p !== undefined);

// ---- network -------------------------------------------------------------------

async function linkExists(name: string, netns?: string): Promise<boolean> {
  const args = netns ? ['-n', netns, 'link', 'show', 'dev', name] : ['link', 'show', 'dev', name];
  return (await run('ip', args, { allowFail: true })).code === 0;
}

async function linkKind(name: string): Promise<string | undefined> {
  const r = await run('ip', ['-j', '-d', 'link', 'show', 'dev', name], { allowFail: true });
  if (r.code !== 0) return undefined;
  const [l] = JSON.parse(r.stdout) as { linkinfo?: { info_kind?: string } }[];
  return l?.linkinfo?.info_kind ?? '';
}

async function netnsExists(ns: string): Promise<boolean> {
  const r = await run('ip', ['netns', 'list'], { allowFail: true });
  return r.stdout.split('\n').some((l) => l.split(' ')[0] === ns);
}

function natArgs(op: '-A' | '-C' | '-D', name: string, network: string, bridge: string): string[] {
  return ['-w', '-t', 'nat', op, 'POSTROUTING', '-s', network, '!', '-o', bridge, '-m', 'comment', '--comment', `float-env ${name}`, '-j', 'MASQUERADE'];
}

async function natPresent(name: string, network: string, bridge: string): Promise<boolean> {
  return (await run('iptables', natArgs('-C', name, network, bridge), { allowFail: true })).code === 0;
}

/**
 * The guests share this machine's root user (no user namespace), so every guest's
 * systemd, journald, udev and wireguard-go (its control socket) take inotify
 * instances from root's one machine-wide budget, 128 on Debian: a few booted
 * environments exhaust it, and then `wireguard-go` fails with "too many open
 * files". Raised to 1024 when lower, and left so (a higher limit harms nothing).
 */
const INOTIFY_INSTANCES = '/proc/sys/fs/inotify/max_user_instances';
const INOTIFY_MIN = 1024;
function raiseInotifyInstances(log: Log): void {
  try {
    const now = Number(readFileSync(INOTIFY_INSTANCES, 'utf8').trim());
    if (now >= INOTIFY_MIN) return;
    writeFileSync(INOTIFY_INSTANCES, `${INOTIFY_MIN}\n`);
    log(`raised fs.inotify.max_user_instances from ${now} to ${INOTIFY_MIN} (every local host takes some)`);
  } catch (err) {
    log(`cannot raise fs.inotify.max_user_instances: ${(err as Error).message}`);
  }
}

async function setupNetwork(spec: EnvSpec, net: Cidr, state: EnvState, log: Log): Promise<void> {
  const kind = await linkKind(spec.bridge);
  if (kind === undefined) {
    log(`creating bridge ${spec.bridge} (${spec.gateway}/${prefixLength(net)})`);
    await run('ip', ['link', 'add', 'name', spec.bridge, 'type', 'bridge']);
  } else if (kind !== 'bridge') {
    throw new FloatUserError(`test_env.bridge: ${spec.bridge} already exists on this machine and is not a bridge (${kind || 'a plain interface'})`, 'F2043');
  }
  await run('ip', ['addr', 'replace', `${spec.gateway}/${prefixLength(net)}`, 'dev', spec.bridge]);
  await run('ip', ['link', 'set', spec.bridge, 'up']);
  if (readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() !== '1') {
    writeFileSync('/proc/sys/net/ipv4/ip_forward', '1\n');
    // Machine-wide (under /run, so a reboot forgets it): whichever float env goes down last turns it off.
    mkdirSync(dirname(IP_FORWARD_MARK), { recursive: true });
    writeFileSync(IP_FORWARD_MARK, `set by float env ${spec.name} at ${new Date().toISOString()}\n`);
  }
  raiseInotifyInstances(log);
  const network = formatCidr(net);
  if (!(await natPresent(spec.name, network, spec.bridge))) await run('iptables', natArgs('-A', spec.name, network, spec.bridge));
  state.network = spec.network;
  state.bridge = spec.bridge;
  state.gateway = spec.gateway;
  saveState(spec, state);
}

async function setupHostNetwork(spec: EnvSpec, host: EnvHost, net: Cidr): Promise<void> {
  const ns = netnsName(spec, host.name);
  const veth = vethName(spec, host.name);
  await run('ip', ['netns', 'add', ns]);
  await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  await run('ip', ['link', 'set', veth, 'master', spec.bridge]);
  await run('ip', ['link', 'set', veth, 'up']);
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  await run('ip', ['-n', ns, 'addr', 'add', `${host.ip}/${prefixLength(net)}`, 'dev', 'eth0']);
  await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  await run('ip', ['-n', ns, 'route', 'add', 'default', 'via', spec.gateway]);
}

async function teardownHostNetwork(spec: EnvSpec, host: string): Promise<void> {
  const ns = netnsName(spec, host);
  if (await netnsExists(ns)) await run('ip', ['netns', 'delete', ns], { allowFail: true });
  const veth = vethName(spec, host);
  if (await linkExists(veth)) await run('ip', ['link', 'delete', veth], { allowFail: true });
}

// ---- the host's disk --------------------------------------------------------------

/** The host's name servers: the machine's, minus loopback ones the host cannot reach. */
function guestResolvConf(log: Log): string {
  let text = '';
  try {
    text = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    // none
  }
  const lines = text.split('\n').filter((l) => {
    const m = /^\s*nameserver\s+(\S+)/.exec(l);
    return m ? !/^(127\.|::1$)/.test(m[1]) : /^\s*(search|domain|options)\s/.test(l);
  });
  if (!lines.some((l) => /^\s*nameserver/.test(l))) {
    log("warning: this machine has no non-loopback name server in /etc/resolv.conf; test hosts will not resolve deb.debian.org");
  }
  return `# written by float env\n${lines.join('\n')}\n`;
}

function writeFileReplacingLink(path: string, content: string, mode = 0o644): void {
  try {
    if (lstatSync(path).isSymbolicLink()) unlinkSync(path);
  } catch {
    // absent
  }
  writeFileSync(path, content);
  chmodSync(path, mode);
}

/** Per-host files: hostname, hosts, machine-id, name servers, root's authorized_keys. */
function personalize(spec: EnvSpec, host: EnvHost, root: string, publicKey: string, resolvConf: string): void {
  writeFileReplacingLink(join(root, 'etc/hostname'), `${host.name}\n`);
  const hosts = ['127.0.0.1\tlocalhost', `::1\tlocalhost ip6-localhost ip6-loopback`, ...spec.hosts.map((h) => `${h.ip}\t${h.name}`)];
  writeFileReplacingLink(join(root, 'etc/hosts'), hosts.join('\n') + '\n');
  const mid = join(root, 'etc/machine-id');
  let current = '';
  try {
    current = readFileSync(mid, 'utf8').trim();
  } catch {
    // absent
  }
  if (!/^[0-9a-f]{32}$/.test(current)) writeFileReplacingLink(mid, randomBytes(16).toString('hex') + '\n', 0o444);
  writeFileReplacingLink(join(root, 'etc/resolv.conf'), resolvConf);
  const sshDir = join(root, 'root/.ssh');
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  chmodSync(sshDir, 0o700);
  const ak = join(sshDir, 'authorized_keys');
  const existing = existsSync(ak) ? readFileSync(ak, 'utf8') : '';
  if (!existing.split('\n').includes(publicKey)) appendFileSync(ak, (existing && !existing.endsWith('\n') ? '\n' : '') + publicKey + '\n');
  chmodSync(ak, 0o600);
}

/** Mounts (or copies) the host's root; returns the mode used. */
async function prepareRoot(spec: EnvSpec, host: string, rootfs: string, hs: HostState, log: Log): Promise<'overlay' | 'copy'> {
  const dir = hostDir(spec, host);
  const root = hostRoot(spec, host);
  const stamp = cachedStamp(rootfs);
  if (hs.stamp && hs.stamp !== stamp) {
    log(`${host}: the cached rootfs changed since this host was created; starting it from a fresh disk`);
    await unmountTree(root);
    for (const d of ['root', 'upper', 'work']) await removeTree(join(dir, d));
  }
  hs.stamp = stamp;
  for (const d of ['root', 'upper', 'work', 'containers']) mkdirSync(join(dir, d), { recursive: true });
  if (isMountPoint(root)) return 'overlay';
  // FLOAT_ENV_COPY=1 forces the copy (to test it, or where overlayfs misbehaves).
  if (hs.mode !== 'copy' && process.env.FLOAT_ENV_COPY !== '1') {
    const r = await run(
      'mount',
      ['-t', 'overlay', `float-${spec.name}-${host}`, '-o', `lowerdir=${rootfs},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, root],
      { allowFail: true },
    );
    if (r.code === 0) return 'overlay';
    log(`${host}: overlayfs is not usable here (${r.stderr.trim()}); copying the rootfs instead (cp -a --reflink=auto)`);
  }
  if (!existsSync(join(root, STAMP_FILE))) {
    await run('cp', ['-a', '--reflink=auto', `${rootfs}/.`, root]);
  }
  return 'copy';
}

/** The host's own cgroups (see ownCgroupDirs). */
function hostCgroupDirs(spec: EnvSpec, host: string): string[] {
  return ownCgroupDirs(`${spec.name}-${host}`);
}

// ---- boot and wait -------------------------------------------------------------------

function consoleLog(spec: EnvSpec, host: string): string {
  return join(spec.stateDir, 'logs', `${host}.console.log`);
}

function consoleTail(spec: EnvSpec, host: string, n = 30): string {
  try {
    return readFileSync(consoleLog(spec, host), 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '(no console log)';
  }
}

async function bootHost(spec: EnvSpec, host: EnvHost, cgroups: string[]): Promise<number> {
  const root = hostRoot(spec, host.name);
  const args = [
    '-D', root,
    '--boot',
    '--register=no',
    '--keep-unit',
    '-M', host.name,
    `--network-namespace-path=/run/netns/${netnsName(spec, host.name)}`,
    '--capability=all',
    '--system-call-filter=@keyring',
    `--bind=${join(hostDir(spec, host.name), 'containers')}:/var/lib/containers`,
  ];
  mkdirSync(join(spec.stateDir, 'logs'), { recursive: true });
  const fd = openSync(consoleLog(spec, host.name), 'w');
  writeFileSync(fd, `\n---- ${new Date().toISOString()} systemd-nspawn ${args.join(' ')}\n`);
  const child = spawn(...inCgroups(cgroups, 'systemd-nspawn', args), {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, SYSTEMD_NSPAWN_API_VFS_WRITABLE: 'network' },
  });
  closeSync(fd);
  await new Promise<void>((resolvePromise, reject) => {
    child.once('spawn', resolvePromise);
    child.once('error', reject);
  });
  child.unref();
  return child.pid!;
}

function tcpOpen(ip: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const sock = createConnection({ host: ip, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolvePromise(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

async function sshTrue(ip: string, keyPath: string, timeoutMs = 15_000): Promise<boolean> {
  const r = await run('ssh', [...sshOptions(keyPath), `root@${ip}`, 'true'], { allowFail: true, timeoutMs });
  return r.code === 0;
}

async function waitForSsh(spec: EnvSpec, host: EnvHost, pid: number, started: number, log: Log): Promise<void> {
  const end = started + BOOT_TIMEOUT_MS;
  while (Date.now() < end) {
    if (!processAlive(pid)) {
      throw new FloatUserError(
        `test host ${host.name}: systemd-nspawn exited during boot; the last lines of ${consoleLog(spec, host.name)}:\n${consoleTail(spec, host.name)}`,
        'F2043',
      );
    }
    if ((await tcpOpen(host.ip, 22, 1000)) && (await sshTrue(host.ip, spec.sshKeyPath))) {
      log(`ssh ready ${host.name} (${formatSeconds(Date.now() - started)})`);
      return;
    }
    await sleep(250);
  }
  throw new FloatUserError(
    `test host ${host.name}: no SSH on ${host.ip} after ${formatSeconds(BOOT_TIMEOUT_MS)}; the last lines of ${consoleLog(spec, host.name)}:\n${consoleTail(spec, host.name)}`,
    'F2043',
  );
}

function checkNetworkFree(spec: EnvSpec, net: Cidr): void {
  const clash = usedNetworks(spec.bridge).find((u) => cidrOverlap(u.cidr, net));
  if (clash) {
    throw new FloatUserError(`test_env.network ${spec.network} overlaps what this machine already uses (${clash.what}): choose another network`, 'F2043');
  }
}

function checkPaths(spec: EnvSpec): void {
  if (/[,:\\\s]/.test(spec.stateDir)) {
    throw new FloatUserError(`the test environment's state directory ${spec.stateDir} must not contain ',', ':', '\\' or spaces (overlayfs options)`, 'F2043');
  }
}

// ---- the API --------------------------------------------------------------------------

/**
 * Boots the environment's hosts (building the cached rootfs first if needed) and waits
 * until each answers SSH. Hosts already running are left alone, so a second envUp is
 * harmless.
 */
export async function envUp(spec: EnvSpec): Promise<EnvStatus> {
  requireRoot();
  requireTools(ENV_TOOLS);
  const log = spec.log ?? stderrLog;
  const net = validateSpec(spec);
  checkNetworkFree(spec, net);
  checkPaths(spec);
  const t0 = Date.now();
  const rootfs = await ensureRootfs({ log });
  const key = await ensureSshKey(spec.sshKeyPath, `float-test-env-${spec.name}`);
  mkdirSync(spec.stateDir, { recursive: true, mode: 0o700 });
  // Keep the hosts' disks, key and logs out of the configuration's git repository.
  if (!existsSync(join(spec.stateDir, '.gitignore'))) writeFileSync(join(spec.stateDir, '.gitignore'), '# float env state\n*\n');
  const state = loadState(spec);
  await setupNetwork(spec, net, state, log);
  const resolvConf = guestResolvConf(log);

  const booting: { host: EnvHost; pid: number; started: number }[] = [];
  await Promise.all(
    spec.hosts.map(async (host) => {
      const hs: HostState = (state.hosts[host.name] ??= { ip: host.ip });
      const root = hostRoot(spec, host.name);
      const [running] = nspawnPids(root, hs.pid);
      const ns = netnsName(spec, host.name);
      if (running && hs.ip === host.ip && (await netnsExists(ns))) {
        hs.pid = running;
        log(`${host.name} already running (pid ${running})`);
        booting.push({ host, pid: running, started: Date.now() });
        return;
      }
      if (running) {
        log(`${host.name}: restarting (its address or network changed)`);
        await stopHost(spec, host.name, hs.pid, log);
      }
      // Leftovers of a host that stopped on its own: start from a clean network.
      await teardownHostNetwork(spec, host.name);
      hs.ip = host.ip;
      hs.mode = await prepareRoot(spec, host.name, rootfs, hs, log);
      personalize(spec, host, root, key.publicKey, resolvConf);
      await setupHostNetwork(spec, host, net);
      await removeCgroups(hs.cgroups ?? []); // a previous boot's
      hs.cgroups = hostCgroupDirs(spec, host.name);
      try {
        createCgroups(hs.cgroups);
      } catch (e) {
        log(`${host.name}: cannot create its own cgroups (${(e as Error).message}); booting it in float's`);
        hs.cgroups = [];
      }
      log(`booting ${host.name} (${host.ip})…`);
      const started = Date.now();
      hs.pid = await bootHost(spec, host, hs.cgroups);
      saveState(spec, state);
      booting.push({ host, pid: hs.pid, started });
    }),
  );
  saveState(spec, state);
  await Promise.all(booting.map((b) => waitForSsh(spec, b.host, b.pid, b.started, log)));
  log(`env ${spec.name} up: ${spec.hosts.length} host(s) on ${spec.network} (${formatSeconds(Date.now() - t0)}); ssh -i ${spec.sshKeyPath} root@ADDRESS`);
  const status = await envStatus(spec, { ssh: false });
  for (const h of status.hosts) if (h.running) h.ssh = 'ready'; // waitForSsh just saw it
  return status;
}

/** Stops a host's systemd-nspawn cleanly (SIGRTMIN+3 to the container's init), then by force. */
async function stopHost(spec: EnvSpec, host: string, hint: number | undefined, log: Log): Promise<void> {
  const root = hostRoot(spec, host);
  const pids = refs(nspawnPids(root, hint));
  if (pids.length === 0) return;
  const t = Date.now();
  const inside = refs(pids.flatMap((p) => descendants(p.pid)));
  for (const p of pids) {
    const leader = leaderOf(p.pid);
    if (leader) killQuiet(leader, SIGRTMIN_PLUS_3);
    else killIfSame(p, 'SIGTERM'); // systemd-nspawn forwards it as SIGRTMIN+3
  }
  if (!(await waitGone(pids, STOP_TIMEOUT_MS))) {
    log(`${host}: did not halt within ${formatSeconds(STOP_TIMEOUT_MS)}; killing it`);
    for (const p of [...pids, ...refs(pids.filter(stillRunning).flatMap((x) => descendants(x.pid))), ...inside]) killIfSame(p, 'SIGKILL');
    await waitGone(pids, 5000);
  }
  // Stragglers (normally none). Their pids may belong to other processes by now: only the same processes are killed.
  for (const p of inside) killIfSame(p, 'SIGKILL');
  log(`stopped ${host} (${formatSeconds(Date.now() - t)})`);
}

/**
 * Removes everything envUp created for the environment: the hosts' processes, cgroups,
 * mounts, disks, network namespaces and veths, the bridge and the NAT rule. Harmless when
 * nothing is up. The SSH key and the console logs of the last boot stay in spec.stateDir.
 */
export async function envDown(spec: EnvSpec): Promise<void> {
  requireRoot();
  requireTools(['ip', 'iptables', 'umount']);
  const log = spec.log ?? stderrLog;
  const t0 = Date.now();
  const state = loadState(spec);
  const names = [...new Set([...spec.hosts.map((h) => h.name), ...Object.keys(state.hosts)])];
  await Promise.all(
    names.map(async (host) => {
      await stopHost(spec, host, state.hosts[host]?.pid, log);
      await removeCgroups(state.hosts[host]?.cgroups ?? hostCgroupDirs(spec, host));
      await unmountTree(hostRoot(spec, host));
      await teardownHostNetwork(spec, host);
      await removeTree(hostDir(spec, host));
      delete state.hosts[host];
    }),
  );
  const nets = new Set<string>();
  for (const [network, bridge] of [
    [spec.network, spec.bridge],
    [state.network, state.bridge],
  ]) {
    const c = parseCidr(network);
    if (!c || nets.has(`${formatCidr(c)} ${bridge}`)) continue;
    nets.add(`${formatCidr(c)} ${bridge}`);
    while (await natPresent(spec.name, formatCidr(c), bridge)) await run('iptables', natArgs('-D', spec.name, formatCidr(c), bridge));
    if ((await linkKind(bridge)) === 'bridge') await run('ip', ['link', 'delete', bridge], { allowFail: true });
  }
  if (existsSync(IP_FORWARD_MARK)) {
    const others = (await run('ip', ['netns', 'list'], { allowFail: true })).stdout.split('\n').filter((l) => l.startsWith('float-'));
    if (others.length === 0) {
      writeFileSync('/proc/sys/net/ipv4/ip_forward', '0\n');
      unlinkSync(IP_FORWARD_MARK);
      try {
        rmdirSync(dirname(IP_FORWARD_MARK));
      } catch {
        // not empty
      }
    }
  }
  await removeTree(join(spec.stateDir, 'hosts'));
  try {
    unlinkSync(statePath(spec));
  } catch {
    // absent
  }
  await pruneOldRootfs(log);
  log(`env ${spec.name} down (${formatSeconds(Date.now() - t0)})`);
}

/** Per-host state: running, mounted, SSH answering (unless opts.ssh is false). */
export async function envStatus(spec: EnvSpec, opts: { ssh?: boolean } = {}): Promise<EnvStatus> {
  const state = loadState(spec);
  const net = parseCidr(spec.network);
  const hosts = await Promise.all(
    spec.hosts.map(async (h): Promise<HostStatus> => {
      const root = hostRoot(spec, h.name);
      const [pid] = nspawnPids(root, state.hosts[h.name]?.pid);
      let ssh: SshState = 'down';
      if (pid && opts.ssh !== false && (await tcpOpen(h.ip, 22, 1000))) {
        ssh = (await sshTrue(h.ip, spec.sshKeyPath, 10_000)) ? 'ready' : 'port-open';
      } else if (pid && opts.ssh === false) {
        ssh = 'unchecked';
      }
      return { name: h.name, ip: h.ip, netns: netnsName(spec, h.name), running: pid !== undefined, pid, mounted: isMountPoint(root), ssh };
    }),
  );
  return {
    name: spec.name,
    network: spec.network,
    bridge: spec.bridge,
    bridgeUp: (await linkKind(spec.bridge)) === 'bridge',
    nat: net ? await natPresent(spec.name, formatCidr(net), spec.bridge) : false,
    sshKeyPath: spec.sshKeyPath,
    hosts,
  };
}

/** The ssh command line for a host of the environment (for `float env ssh` and tests). */
export function sshCommand(spec: EnvSpec, host: string, command: string[] = []): string[] {
  const h = spec.hosts.find((x) => x.name === host);
  if (!h) throw new FloatUserError(`no host '${host}' in this environment (hosts: ${spec.hosts.map((x) => x.name).join(', ')})`, 'F2040');
  return ['ssh', ...sshOptions(spec.sshKeyPath), `root@${h.ip}`, ...command];
}
