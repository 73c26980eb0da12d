// The list of CLI commands. Each command lives in its own file and exports a
// `register(program, setExitCode)` function. main.ts imports only the module of
// the command being run (`load`), so a command's dependencies are not loaded by
// the others; `summary` lists the command in `float --help` without loading it,
// and `examples` end the command's own --help.
import type { Command } from 'commander';

export type SetExitCode = (code: number) => void;
export type RegisterCommand = (program: Command, setExitCode: SetExitCode) => void;

export interface CommandSpec {
  name: string;
  /** One line for `float --help`. */
  summary: string;
  /** Command lines printed under "Examples:" by `float NAME --help`. */
  examples: string[];
  /** Printed after the examples. */
  note?: string;
  /** Examples of each subcommand, for `float NAME SUB --help`. */
  subcommandExamples?: Record<string, string[]>;
  load: () => Promise<{ register: RegisterCommand }>;
}

export const COMMANDS: CommandSpec[] = [
  {
    name: 'check',
    summary: 'validate the configuration and its schedule; print every problem with file:line:col',
    examples: ['float check', 'float check --config env/config.yml'],
    load: () => import('./check.js'),
  },
  {
    name: 'schedule',
    summary: 'print which hosts run each service, or what a change would move (--diff REV)',
    examples: ['float schedule --json', 'float schedule --diff HEAD~1', 'float schedule --diff-scheduler float-compat'],
    load: () => import('./schedule.js'),
  },
  {
    name: 'compile',
    summary: 'compile the configuration into a static Ansible inventory',
    examples: ['float compile', 'float compile --config env/config.yml --out /tmp/inventory'],
    load: () => import('./compile.js'),
  },
  {
    name: 'run',
    summary: 'compile, refresh credentials and run ansible-playbook with a playbook',
    examples: [
      'float run site.yml',
      'float run --config env/config.yml site.yml --check --diff --limit host1',
      'float run init-credentials',
      'float run site.yml -- -c local',
    ],
    load: () => import('./run.js'),
  },
  {
    name: 'logs',
    summary: 'search the central logs on the log collector over SSH (--host, --service, --since, --follow, --json)',
    examples: ['float logs --service myservice error', 'float logs --host host1 --since 10m', 'float logs --follow --json'],
    load: () => import('./logs.js'),
  },
  {
    name: 'init-credentials',
    summary: 'create or update the CA, certificates, SSH CA and secrets in credentials_dir',
    examples: ['float init-credentials --config env/config.yml'],
    load: () => import('./init-credentials.js'),
  },
  {
    name: 'create-env',
    summary: 'write a test environment (--local, --vagrant or --libvirt)',
    examples: ['float create-env test-env --local --num-hosts 3', 'float create-env test-env --vagrant --services my-services.yml'],
    load: () => import('./create-env.js'),
  },
  {
    name: 'env',
    summary: 'manage local test hosts booted with systemd-nspawn (up, down, status, ssh, busybox-image)',
    examples: ['float env up --config test-env/config.yml', 'float env ssh host1 --config test-env/config.yml -- uptime'],
    subcommandExamples: {
      up: ['float env up --config test-env/config.yml'],
      down: ['float env down --config test-env/config.yml'],
      status: ['float env status --config test-env/config.yml --json'],
      ssh: ['float env ssh host1 --config test-env/config.yml', 'float env ssh host1 --config test-env/config.yml -- systemctl --failed'],
      'busybox-image': ['float env busybox-image --config test-env/config.yml'],
    },
    load: () => import('./env.js'),
  },
  {
    name: 'sign-host-key',
    summary: "sign a host's SSH key with the SSH CA (run by the float-base-ssh role)",
    examples: [
      `echo '{"keys": [{"public_key": "ssh-ed25519 AAAA...", "certificate": ""}]}' | float sign-host-key --host host1 --principal host1.infra.example.com host1`,
    ],
    note: 'prints {"certificates": ["ssh-ed25519-cert-v01@openssh.com AAAA..."]}, one for each key, in order',
    load: () => import('./sign-host-key.js'),
  },
  {
    name: 'dns',
    summary: 'print every public DNS record float serves; changes nothing',
    examples: ['float dns', 'float dns --json --config env/config.yml'],
    load: () => import('./dns.js'),
  },
  {
    name: 'overlay',
    summary: 'the private network: assign missing overlay addresses, show addresses, keys and handshakes',
    examples: ['float overlay assign', 'float overlay status --live --config env/config.yml'],
    subcommandExamples: {
      assign: ['float overlay assign --config env/config.yml'],
      status: ['float overlay status', 'float overlay status --live --json'],
    },
    load: () => import('./overlay.js'),
  },
  {
    name: 'backups',
    summary: "list the datasets, their hosts and each one's latest snapshot",
    examples: ['float backups', 'float backups --json --config env/config.yml'],
    load: () => import('./backups.js'),
  },
  {
    name: 'restore',
    summary: 'restore a dataset from its backups on a host that runs it (SERVICE/DATASET)',
    examples: ['float restore web/data', 'float restore web/data --snapshot 1a2b3c4d --host be1'],
    load: () => import('./restore.js'),
  },
  {
    name: 'admin-cert',
    summary: "export an admin's client certificate (admin-only endpoints) as a password-protected PKCS#12 file",
    examples: ['float admin-cert alice', 'float admin-cert alice --out /tmp/alice.p12 --password-file pw.txt'],
    load: () => import('./admin-cert.js'),
  },
  {
    name: 'ssh-cert',
    summary: "sign an admin's SSH key as a short-lived user certificate (root and the admin's account)",
    examples: ['float ssh-cert alice', 'float ssh-cert alice --pubkey ~/.ssh/work.pub --valid 2h'],
    load: () => import('./ssh-cert.js'),
  },
  {
    name: 'ssh',
    summary: "ssh to a host, trusting only the fleet's SSH CA for host keys",
    examples: ['float ssh host1', 'float ssh host1 -i ~/.ssh/work -o ConnectTimeout=5 -- systemctl --failed'],
    load: () => import('./ssh.js'),
  },
  {
    name: 'dashboard',
    summary: 'render the admin dashboard (services, hosts, endpoints, dependency graph) as a static site',
    examples: ['float dashboard', 'float dashboard --out /tmp/dashboard --open'],
    load: () => import('./dashboard.js'),
  },
  {
    name: 'status',
    summary: "show which instances are up and which alerts fire, from Prometheus' API",
    examples: ['float status', 'float status --json', 'float status --url http://127.0.0.1:9090'],
    load: () => import('./status.js'),
  },
];
