// float env up|down|status|ssh: local test hosts for a configuration. The hosts of
// hosts.yml boot on this machine as systemd-nspawn containers on a private bridge,
// following config.yml's `test_env` (see src/env/spec.ts for its keys).
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { envDown, envStatus, envUp, sshCommand, type EnvStatus } from '../env/local-hosts.js';
import { specFromConfig } from '../env/spec.js';
import { requireRoot, requireTools } from '../env/sys.js';
import { BUSYBOX_IMAGE, importBusyboxImage } from '../env/busybox-image.js';
import type { SetExitCode } from './commands.js';
import { configOption } from './options.js';

function printStatus(s: EnvStatus): boolean {
  const out: string[] = [];
  out.push(`env ${s.name}: network ${s.network}, bridge ${s.bridge} ${s.bridgeUp ? 'up' : 'absent'}, NAT ${s.nat ? 'on' : 'off'}`);
  const w = Math.max(...s.hosts.map((h) => h.name.length));
  for (const h of s.hosts) {
    const run = h.running ? `running (pid ${h.pid})` : 'stopped';
    out.push(`  ${h.name.padEnd(w)}  ${h.ip.padEnd(15)}  ${run.padEnd(22)}  ssh ${h.ssh}`);
  }
  out.push(`ssh key: ${s.sshKeyPath}`);
  process.stdout.write(out.join('\n') + '\n');
  return s.hosts.every((h) => h.running && (h.ssh === 'ready' || h.ssh === 'unchecked'));
}

export function register(program: Command, setExitCode: SetExitCode): void {
  const env = program
    .command('env')
    .description('local test hosts: boot the hosts of hosts.yml on this machine (systemd-nspawn, needs root); see test_env in config.yml');

  env
    .command('up')
    .description('build the cached Debian rootfs if needed, boot every host and wait for SSH (harmless when already up)')
    .addOption(configOption())
    .action(async (opts: { config: string }) => {
      const spec = specFromConfig(opts.config);
      printStatus(await envUp(spec));
    });

  env
    .command('busybox-image')
    .description(`import ${BUSYBOX_IMAGE}, a tiny image built from Debian's busybox-static, on every host (there is no registry in test environments)`)
    .addOption(configOption())
    .action(async (opts: { config: string }) => {
      await importBusyboxImage(specFromConfig(opts.config));
      process.stdout.write(`${BUSYBOX_IMAGE} is present on every host\n`);
    });

  env
    .command('down')
    .description('stop the hosts and remove everything float env up created (processes, mounts, disks, netns, bridge, NAT rule)')
    .addOption(configOption())
    .action(async (opts: { config: string }) => {
      requireRoot();
      await envDown(specFromConfig(opts.config));
    });

  env
    .command('status')
    .description('show whether each host runs and answers SSH (exit 1 when not all do)')
    .addOption(configOption())
    .option('--json', 'print the status as JSON')
    .action(async (opts: { config: string; json?: boolean }) => {
      requireRoot();
      const s = await envStatus(specFromConfig(opts.config));
      let ok: boolean;
      if (opts.json) {
        process.stdout.write(JSON.stringify(s, null, 2) + '\n');
        ok = s.hosts.every((h) => h.running && h.ssh === 'ready');
      } else {
        ok = printStatus(s);
      }
      if (!ok) setExitCode(1);
    });

  env
    .command('ssh')
    .description('open a shell on a test host as root, or run a command: float env ssh HOST [-- COMMAND...]')
    .addOption(configOption())
    .argument('<host>', 'host name from hosts.yml')
    .argument('[command...]', 'command to run on the host (after --)')
    .action(async (host: string, command: string[], opts: { config: string }) => {
      requireTools(['ssh']);
      const spec = specFromConfig(opts.config);
      const [cmd, ...args] = sshCommand(spec, host, command);
      const code = await new Promise<number>((resolvePromise, reject) => {
        const child = spawn(cmd, args, { stdio: 'inherit' });
        child.on('error', reject);
        child.on('close', (c, signal) => resolvePromise(c ?? (signal ? 128 + 15 : 1)));
      });
      setExitCode(code);
    });
}
