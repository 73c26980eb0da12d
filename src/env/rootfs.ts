// The root filesystem of the local test hosts: a Debian bookworm tree built once
// with debootstrap and cached (default /var/cache/float/rootfs/bookworm, or
// $FLOAT_CACHE_DIR/rootfs/bookworm). Everything a test host needs before its first
// boot is in it: systemd, sshd, python3 for Ansible, podman and its runtimes, and the
// guest set-up podman needs inside systemd-nspawn (a unit that remounts the cgroup v1
// controllers and /proc/sys/net writable before sysinit.target; containers.conf
// ulimits no higher than the hard limits, which a machine without CAP_SYS_RESOURCE
// cannot raise). Test hosts overlay it copy-on-write; it is never modified
// once built.
//
// The build happens in a temporary directory that is renamed into place when complete,
// so an interrupted build never leaves a half cache. A stamp (a hash of the whole
// recipe: packages, files, version) is stored in the tree; a changed recipe rebuilds.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, symlinkSync, unlinkSync, writeFileSync, lstatSync, openSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawn } from 'node:child_process';
import {
  type Log,
  createCgroups,
  formatSeconds,
  inCgroups,
  ownCgroupDirs,
  processAlive,
  procRef,
  stillRunning,
  readMounts,
  removeCgroups,
  removeTree,
  requireTools,
  sleep,
  stderrLog,
} from './sys.js';

const SUITE = 'bookworm';
const MIRROR = 'http://deb.debian.org/debian';

/** Bump to force a rebuild when the build procedure changes in a way the recipe hash does not see. */
const RECIPE_VERSION = 4;

/** Installed by debootstrap (minbase variant). */
const BASE_PACKAGES = [
  'systemd', 'systemd-sysv', 'dbus', 'python3', 'openssh-server', 'iproute2', 'sudo', 'ca-certificates',
  // Ansible's common modules: apt (python3-apt), become_user (acl); handy for tests.
  'python3-apt', 'acl', 'iputils-ping', 'procps',
];

/** Installed with apt-get inside the fresh tree before it is ever booted. */
const PODMAN_PACKAGES = ['podman', 'crun', 'runc', 'conmon', 'netavark', 'aardvark-dns', 'iptables', 'nftables'];

/**
 * What the bundled frontend roles install (nginx, haproxy, bind9, certbot, curl),
 * pre-installed so test runs need not download it; the daemons are disabled so they
 * start only where a role enables them.
 */
const ROLE_PACKAGES = [
  'nginx', 'libnginx-mod-stream', 'haproxy', 'bind9', 'bind9-dnsutils', 'openssl', 'certbot', 'curl',
  // Cluster services: monitoring, backups, logs, the private network, volumes, mail relay.
  'prometheus', 'prometheus-alertmanager', 'prometheus-blackbox-exporter', 'prometheus-node-exporter',
  'prometheus-nginx-exporter', 'restic', 'openssh-sftp-server', 'rsyslog', 'rsyslog-gnutls', 'rsyslog-openssl',
  'wireguard-tools', 'wireguard-go', 'lvm2', 'e2fsprogs', 'msmtp-mta', 'bsd-mailx', 'cron',
  // Test aids: packet capture on the overlay, lookups.
  'tcpdump',
];
const ROLE_UNITS = [
  'nginx.service', 'haproxy.service', 'named.service',
  'prometheus.service', 'prometheus-alertmanager.service', 'prometheus-blackbox-exporter.service',
  'prometheus-node-exporter.service', 'prometheus-nginx-exporter.service', 'rsyslog.service',
];

/** Stamp file at the root of the cached tree. */
export const STAMP_FILE = '.float-rootfs.json';

const GUEST_MOUNTS_SCRIPT = `#!/bin/sh
# float test host: the container manager mounts the cgroup v1 controllers and
# /proc/sys/net read-only; podman needs them writable. Local test hosts only.
for c in cpu cpuacct cpuset memory devices freezer blkio pids; do
  if [ -d /sys/fs/cgroup/$c ]; then
    mount -o remount,bind,rw /sys/fs/cgroup/$c || echo "float-guest-mounts: cannot remount /sys/fs/cgroup/$c" >&2
  fi
done
mount --bind /proc/sys/net /proc/sys/net && mount -o remount,bind,rw /proc/sys/net || echo "float-guest-mounts: cannot remount /proc/sys/net" >&2
exit 0
`;

const GUEST_MOUNTS_UNIT = `[Unit]
Description=float test host: writable cgroup controllers and /proc/sys/net
DefaultDependencies=no
ConditionVirtualization=container
Before=sysinit.target systemd-sysctl.service
After=systemd-remount-fs.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/float-guest-mounts

[Install]
WantedBy=sysinit.target
`;

const SSH_HOSTKEYS_UNIT = `[Unit]
Description=float test host: generate this host's SSH host keys
ConditionPathExists=|!/etc/ssh/ssh_host_ed25519_key
ConditionPathExists=|!/etc/ssh/ssh_host_ecdsa_key
Before=ssh.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/float-ssh-hostkeys

[Install]
WantedBy=multi-user.target ssh.service
`;

const CONTAINERS_CONF = `# float test host (see notes/test-hosts-and-podman.md): the machine cannot raise hard
# rlimits, so podman must not ask for more than it has; runc copes with the hybrid cgroup layout.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
`;

// ed25519 and ECDSA only: a 3072-bit RSA key takes seconds of a boot, and every client
// float drives speaks ed25519 (float-test-host.conf names these two keys for sshd).
const SSH_HOSTKEYS_SCRIPT = `#!/bin/sh
set -e
for t in ed25519 ecdsa; do
  f=/etc/ssh/ssh_host_\${t}_key
  [ -e "$f" ] || ssh-keygen -q -t "$t" -N "" -f "$f"
done
`;

const SSHD_CONF = `# float test host
HostKey /etc/ssh/ssh_host_ed25519_key
HostKey /etc/ssh/ssh_host_ecdsa_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
`;

const SOURCES = `Types: deb
URIs: ${MIRROR}
Suites: ${SUITE} ${SUITE}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: ${SUITE}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

/** Files written into the tree after the packages are installed (path -> [content, mode]). */
const GUEST_FILES: Record<string, [string, number]> = {
  'usr/local/sbin/float-guest-mounts': [GUEST_MOUNTS_SCRIPT, 0o755],
  'etc/systemd/system/float-guest-mounts.service': [GUEST_MOUNTS_UNIT, 0o644],
  'usr/local/sbin/float-ssh-hostkeys': [SSH_HOSTKEYS_SCRIPT, 0o755],
  'etc/systemd/system/float-ssh-hostkeys.service': [SSH_HOSTKEYS_UNIT, 0o644],
  'etc/containers/containers.conf': [CONTAINERS_CONF, 0o644],
  'etc/ssh/sshd_config.d/float-test-host.conf': [SSHD_CONF, 0o644],
  'etc/apt/sources.list.d/debian.sources': [SOURCES, 0o644],
  'etc/apt/sources.list': ['# see sources.list.d/debian.sources\n', 0o644],
  'etc/hostname': ['localhost\n', 0o644],
  'etc/default/locale': ['LANG=C.UTF-8\n', 0o644],
  'etc/machine-id': ['', 0o444],
};

/** Symlinks (path -> target): enabled units, and units that make no sense in a test host. */
const GUEST_LINKS: Record<string, string> = {
  'etc/systemd/system/sysinit.target.wants/float-guest-mounts.service': '/etc/systemd/system/float-guest-mounts.service',
  'etc/systemd/system/multi-user.target.wants/float-ssh-hostkeys.service': '/etc/systemd/system/float-ssh-hostkeys.service',
  'etc/systemd/system/multi-user.target.wants/ssh.service': '/lib/systemd/system/ssh.service',
  'etc/systemd/system/sshd.service': '/lib/systemd/system/ssh.service',
  // Never prompt on the (unattended) console at first boot.
  'etc/systemd/system/systemd-firstboot.service': '/dev/null',
};

/** A hash of everything that shapes the tree. */
function recipeStamp(): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ RECIPE_VERSION, SUITE, MIRROR, BASE_PACKAGES, PODMAN_PACKAGES, ROLE_PACKAGES, ROLE_UNITS, GUEST_FILES, GUEST_LINKS }));
  return h.digest('hex').slice(0, 16);
}

function cacheRoot(): string {
  return process.env.FLOAT_CACHE_DIR || '/var/cache/float';
}

function rootfsPath(): string {
  return join(cacheRoot(), 'rootfs', SUITE);
}

/** The stamp of the cached tree, or undefined when there is none. */
export function cachedStamp(path = rootfsPath()): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(path, STAMP_FILE), 'utf8')) as { stamp?: string }).stamp;
  } catch {
    return undefined;
  }
}

/** Whether a tree built from the current recipe is cached. */
function rootfsReady(): boolean {
  return cachedStamp() === recipeStamp();
}

/** A mkdir lock with the owner's pid in it; a lock whose owner died is taken over. */
export async function withLock<T>(lockDir: string, log: Log, fn: () => Promise<T>): Promise<T> {
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      // pid and start time: a pid alone may name another process once the owner has died.
      writeFileSync(join(lockDir, 'pid'), `${process.pid} ${procRef(process.pid)?.start ?? ''}`.trim());
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = NaN;
      let start = '';
      try {
        const fields = readFileSync(join(lockDir, 'pid'), 'utf8').trim().split(/\s+/);
        owner = Number(fields[0]);
        start = fields[1] ?? '';
      } catch {
        // being created or removed right now
      }
      const ownerAlive = start ? stillRunning({ pid: owner, start }) : processAlive(owner);
      if (Number.isFinite(owner) && owner > 0 && !ownerAlive) {
        try {
          unlinkSync(join(lockDir, 'pid'));
          rmdirSync(lockDir);
        } catch {
          // someone else took it over first
        }
        continue;
      }
      if (!announced && Number.isFinite(owner)) {
        log(`waiting for another float process (pid ${owner}) building the rootfs`);
        announced = true;
      }
      await sleep(1000);
    }
  }
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(join(lockDir, 'pid'));
      rmdirSync(lockDir);
    } catch {
      // ignore
    }
  }
}

/** Runs a long command with its output in a log file; on failure the error carries the log's tail. */
function runLogged(cmd: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const fd = openSync(logFile, 'a');
    writeFileSync(fd, `\n$ ${cmd} ${args.join(' ')}\n`);
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: env ?? process.env });
    closeSync(fd);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolvePromise();
      const tail = readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n');
      reject(new Error(`${cmd} failed (exit ${code}); the last lines of ${logFile}:\n${tail}`));
    });
  });
}

function writeGuestFile(root: string, rel: string, content: string, mode: number): void {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  try {
    if (lstatSync(p).isSymbolicLink()) unlinkSync(p);
  } catch {
    // absent
  }
  writeFileSync(p, content);
  chmodSync(p, mode);
}

function linkGuestFile(root: string, rel: string, target: string): void {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  try {
    unlinkSync(p);
  } catch {
    // absent
  }
  symlinkSync(target, p);
}

/**
 * Whether any overlay mount uses a tree of dir. A renamed lower directory still shows
 * its old path in /proc/mounts, so the only safe question is "any tree at all".
 */
function overlaysUse(dir: string): boolean {
  return readMounts().some((m) => m.fstype === 'overlay' && m.options.includes(`lowerdir=${dir}/`));
}

/**
 * Removes failed builds (never mounted; only under the build lock, !onlyOld) and
 * replaced trees that no mounted overlay may still use.
 */
async function removeUnused(dir: string, log: Log, onlyOld = false): Promise<void> {
  const names = readdirSync(dir);
  if (!onlyOld) for (const name of names.filter((n) => n.startsWith(`.${SUITE}.tmp-`))) await removeTree(join(dir, name));
  const old = names.filter((n) => n.startsWith(`${SUITE}.old-`));
  if (old.length === 0) return;
  if (overlaysUse(dir)) {
    log(`keeping ${old.length} replaced rootfs tree(s) in ${dir} while test hosts run on them`);
    return;
  }
  for (const name of old) await removeTree(join(dir, name));
}

/** Deletes rootfs trees replaced by a newer recipe once no test host uses them (envDown calls it). */
export async function pruneOldRootfs(log: Log = stderrLog): Promise<void> {
  const dir = dirname(rootfsPath());
  if (existsSync(dir)) await removeUnused(dir, () => {}, true).catch((e) => log(`cannot prune old rootfs trees: ${(e as Error).message}`));
}

/** Builds the tree into tmp. */
async function build(tmp: string, debs: string, logFile: string, log: Log): Promise<void> {
  mkdirSync(debs, { recursive: true });
  log(`debootstrap ${SUITE} (minbase) into ${tmp} — a few minutes the first time; log: ${logFile}`);
  let t = Date.now();
  await runLogged(
    'debootstrap',
    ['--variant=minbase', `--include=${BASE_PACKAGES.join(',')}`, `--cache-dir=${debs}`, SUITE, tmp, MIRROR],
    logFile,
  );
  log(`debootstrap done (${formatSeconds(Date.now() - t)})`);
  for (const [rel, [content, mode]] of Object.entries(GUEST_FILES)) {
    if (rel.startsWith('etc/apt/')) writeGuestFile(tmp, rel, content, mode);
  }
  const packages = [...PODMAN_PACKAGES, ...ROLE_PACKAGES];
  log(`installing ${packages.join(' ')} into the rootfs`);
  t = Date.now();
  // In a cgroup of its own, so systemd-nspawn leaves nothing behind in float's.
  let cgroups = ownCgroupDirs(`rootfs-build-${process.pid}`);
  try {
    createCgroups(cgroups);
  } catch {
    cgroups = [];
  }
  try {
    await runLogged(
      ...inCgroups(cgroups, 'systemd-nspawn', [
        '-D', tmp, '--register=no', '--keep-unit', '--quiet',
        `--bind=${debs}:/var/cache/apt/archives`,
        '-E', 'DEBIAN_FRONTEND=noninteractive',
        'sh', '-c',
        `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')} && apt-get upgrade -y --no-install-recommends` +
          ` && systemctl disable ${ROLE_UNITS.join(' ')}`,
      ]),
      logFile,
    );
  } finally {
    await removeCgroups(cgroups);
  }
  log(`packages installed (${formatSeconds(Date.now() - t)})`);
  for (const [rel, [content, mode]] of Object.entries(GUEST_FILES)) writeGuestFile(tmp, rel, content, mode);
  for (const [rel, target] of Object.entries(GUEST_LINKS)) linkGuestFile(tmp, rel, target);
  // Per-host identity comes at boot: a machine-id written by float env, SSH host keys
  // generated by float-ssh-hostkeys.service.
  for (const f of readdirSync(join(tmp, 'etc/ssh'))) {
    if (f.startsWith('ssh_host_')) unlinkSync(join(tmp, 'etc/ssh', f));
  }
  const dbusId = join(tmp, 'var/lib/dbus/machine-id');
  try {
    if (!lstatSync(dbusId).isSymbolicLink()) unlinkSync(dbusId);
  } catch {
    // absent
  }
  mkdirSync(join(tmp, 'root/.ssh'), { recursive: true, mode: 0o700 });
  chmodSync(join(tmp, 'root/.ssh'), 0o700);
  writeFileSync(
    join(tmp, STAMP_FILE),
    JSON.stringify({ stamp: recipeStamp(), suite: SUITE, built: new Date().toISOString() }, null, 2) + '\n',
  );
}

/**
 * Returns the path of the cached rootfs, building it first when it is missing or was
 * built from another recipe.
 */
export async function ensureRootfs(opts: { log?: Log } = {}): Promise<string> {
  const log = opts.log ?? stderrLog;
  const final = rootfsPath();
  if (rootfsReady()) return final;
  requireTools(['debootstrap', 'systemd-nspawn']);
  const dir = dirname(final);
  mkdirSync(dir, { recursive: true });
  return withLock(join(dir, `.${SUITE}.lock`), log, async () => {
    if (rootfsReady()) return final; // built by whoever held the lock
    const started = Date.now();
    const tmp = join(dir, `.${SUITE}.tmp-${process.pid}-${Date.now()}`);
    const logFile = join(dir, `${SUITE}.build.log`);
    writeFileSync(logFile, `float rootfs build ${new Date().toISOString()}\n`);
    await removeUnused(dir, log); // failed builds of earlier runs
    try {
      await build(tmp, join(cacheRoot(), 'debs'), logFile, log);
    } catch (e) {
      await removeTree(tmp).catch(() => {});
      throw e;
    }
    if (existsSync(final)) {
      log(`replacing the cached rootfs (recipe changed: ${cachedStamp() ?? 'no stamp'} -> ${recipeStamp()})`);
      renameSync(final, join(dir, `${SUITE}.old-${Date.now()}`));
    }
    renameSync(tmp, final);
    await removeUnused(dir, log);
    log(`rootfs ready: ${final} (${formatSeconds(Date.now() - started)})`);
    return final;
  });
}
