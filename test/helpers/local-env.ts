// Shared by the end-to-end tests that boot local test hosts and run float against
// them: why they would be skipped, running the float CLI in a configuration
// directory, commands on a host over SSH, and reading ansible-playbook's recap.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { importBusyboxImage } from '../../src/env/busybox-image.js';
import { envUp, sshCommand, type EnvSpec } from '../../src/env/local-hosts.js';
import { specFromConfig } from '../../src/env/spec.js';
import { missingTools } from '../../src/env/sys.js';
import { skipUnlessRequired } from './prerequisites.js';
import { REPO_ROOT } from './tree.js';

const notRoot = typeof process.getuid === 'function' && process.getuid() !== 0;
const missing = missingTools(['systemd-nspawn', 'debootstrap', 'ansible-playbook']);
/**
 * Why local test hosts cannot run here, or undefined when they can (see
 * prerequisites.ts: under FLOAT_E2E_REQUIRED=1, importing this fails instead).
 */
export const e2eSkipReason: string | undefined = skipUnlessRequired(
  'the end-to-end tests on local test hosts',
  notRoot ? 'not running as root' : missing.length ? `missing ${missing.map((m) => `${m.tool} (apt-get install ${m.pkg})`).join(', ')}` : undefined,
);

const FLOAT = join(REPO_ROOT, 'bin/float.mjs');

/** hosts.yml's group_vars for local test hosts: root over SSH with the environment's key. */
export const LOCAL_HOSTS_GROUP_VARS = `group_vars:
  all:
    ansible_user: root
    ansible_ssh_private_key_file: .float-env/ssh/id_ed25519
    # root's authorized_keys is managed exclusively (float-base-ssh): keep the environment's key in it.
    ssh_extra_root_keys: ["{{ lookup('ansible.builtin.file', (float_config_file | dirname) ~ '/.float-env/ssh/id_ed25519.pub') }}"]
    ansible_ssh_common_args: "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
`;

/**
 * Global variables podman needs on local test hosts: ulimits no higher than the
 * hard limits (a machine without CAP_SYS_RESOURCE cannot raise them, and podman's
 * defaults ask for more), and runc (crun refuses a hybrid cgroup v1/v2 layout).
 */
export const LOCAL_PODMAN_VARS = `float_podman_default_ulimits: ["nofile=20000:20000", "nproc=32768:32768"]
float_podman_runtime: runc
`;

export interface RunOut {
  status: number;
  out: string;
}

/** A configuration directory with its hosts booted, and helpers to drive it. */
export class LocalEnv {
  spec!: EnvSpec;
  readonly timings: string[] = [];
  constructor(readonly dir: string) {}

  /** Boots the hosts of dir/config.yml, imports the busybox image, commits the tree to git. */
  async up(): Promise<void> {
    this.spec = specFromConfig(join(this.dir, 'config.yml'));
    const t0 = Date.now();
    await envUp(this.spec);
    this.timings.push(`env up (${this.spec.hosts.length} hosts): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await importBusyboxImage(this.spec);
    this.git('init', '-q');
    this.commit('initial');
  }

  /** Runs the float CLI with this directory's config.yml; records the time under `label`. */
  float(args: string[], label?: string): RunOut {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [FLOAT, ...args, '--config', join(this.dir, 'config.yml')], {
      cwd: this.dir,
      encoding: 'utf8',
      env: { ...process.env, ANSIBLE_NOCOLOR: '1' },
    });
    if (label) this.timings.push(`${label}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return { status: r.status ?? 1, out: r.stdout + r.stderr };
  }

  floatRun(args: string[], label?: string): RunOut {
    const [playbook, ...rest] = args;
    return this.float(['run', playbook, ...rest], label);
  }

  /** Runs a shell command on a host as root. */
  on(host: string, command: string): RunOut {
    const [cmd, ...args] = sshCommand(this.spec, host, [command]);
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
    return { status: r.status ?? 1, out: (r.stdout + r.stderr).trim() };
  }

  /**
   * A TCP connection from a host: 'open', 'refused', 'timeout' (what a dropping firewall
   * gives) or 'error N'. A negative check asserts 'timeout', never just a failure, so a
   * broken probe cannot pass it. `target` is an address or a name the host resolves.
   */
  tcpFrom(host: string, target: string, port: number): string {
    return this.on(
      host,
      `python3 -c '
import socket
s = socket.socket(socket.AF_INET6 if ":" in "${target}" else socket.AF_INET)
s.settimeout(3)
try:
    s.connect(("${target}", ${port})); print("open")
except socket.timeout:
    print("timeout")
except ConnectionRefusedError:
    print("refused")
except OSError as e:
    print("error", e.errno)
'`,
    ).out;
  }

  /** Commits everything in the directory (new files too), as the e2e identity. */
  commit(message: string): void {
    this.git('add', '-A');
    this.git('-c', 'user.name=e2e', '-c', 'user.email=e2e@example.test', 'commit', '-qm', message);
  }

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, encoding: 'utf8' }).trim();
  }
}

/** ansible-playbook's PLAY RECAP as host -> counts. */
export function recap(out: string): Record<string, { changed: number; unreachable: number; failed: number }> {
  return Object.fromEntries(
    [...out.matchAll(/^(\S+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)].map((m) => [
      m[1],
      { changed: +m[2], unreachable: +m[3], failed: +m[4] },
    ]),
  );
}

/** "host: task" for every task reported changed, to explain a non-idempotent run. */
export function changedTasks(out: string): string[] {
  // With the rest of the line: the loop item that changed, when there is one.
  return [...out.matchAll(/^TASK \[([^\]]+)\][^\n]*\n(?:(?!TASK )[^\n]*\n)*?changed: \[(\w+)\]([^\n]*)/gm)].map((m) => `${m[2]}: ${m[1]}${m[3].replace(/^ => /, ' ')}`);
}
