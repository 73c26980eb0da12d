// float ssh HOST [-o OPTION]... [-- COMMAND]: ssh to a host of the configuration, trusting only
// the fleet's SSH CA for its host key (a known_hosts file float writes with one
// @cert-authority line for the fleet's names), as root by default.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { FloatUserError } from '../config/diagnostics.js';
import type { Model } from '../config/load.js';
import { writeFileAtomic } from '../credentials/atomic.js';
import { keyPart, sshCaPaths } from '../credentials/ssh-ca.js';
import { loadModel } from '../admin-access.js';
import type { SetExitCode } from './commands.js';
import { configOption } from './options.js';

/** The known_hosts line: the SSH CA, for every host name, `*.<domain>` and every address float knows. */
export function knownHostsLine(model: Model, caPublicKey: string): string {
  const names = ['*.' + model.globals.domain, ...model.hosts.flatMap((h) => [h.name, ...h.ips])];
  return `@cert-authority ${[...new Set(names)].join(',')} ${keyPart(caPublicKey)}`;
}

export function register(program: Command, setExitCode: SetExitCode): void {
  program
    .command('ssh')
    .description("ssh to a host as root, trusting only the fleet's SSH CA for its host key")
    .argument('<host>', 'a host of hosts.yml')
    .argument('[command...]', 'the command to run, after --')
    .addOption(configOption())
    .option('-l, --user <user>', 'the account to log in to', 'root')
    .option('-i, --identity <file>', 'the private key (its certificate from float ssh-cert is found beside it, KEY-cert.pub)')
    .option('-o, --option <option>', 'an ssh option (as ssh -o); repeat it for more', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .action((hostName: string, command: string[], opts: { config: string; user: string; identity?: string; option: string[] }) => {
      const model = loadModel(opts.config);
      const host = model.hosts.find((h) => h.name === hostName);
      if (!host) throw new FloatUserError(`'${hostName}' is not a host of ${model.config.hosts_file}`, 'F2143');
      const ca = sshCaPaths(model.config.credentials_dir).publicKey;
      if (!existsSync(ca)) throw new FloatUserError(`${ca} does not exist: run float init-credentials (or float run) first`, 'F2143');
      const knownHosts = join(model.baseDir, '.float', 'ssh_known_hosts');
      writeFileAtomic(knownHosts, `# Written by float ssh: the fleet's SSH CA, for the fleet's names only.\n${knownHostsLine(model, readFileSync(ca, 'utf8'))}\n`, 0o644);
      const address = typeof host.vars.ansible_host === 'string' ? host.vars.ansible_host : (host.ips[0] ?? host.name);
      const sshArgs = [
        '-o', `UserKnownHostsFile=${knownHosts}`,
        '-o', 'GlobalKnownHostsFile=/dev/null',
        '-o', 'StrictHostKeyChecking=yes',
        '-o', 'CheckHostIP=no',
        // The host certificate names the inventory host: check it against that name, whatever address we dial.
        '-o', `HostKeyAlias=${host.name}`,
        ...(opts.identity ? ['-i', opts.identity, '-o', 'IdentitiesOnly=yes'] : []),
        ...opts.option.flatMap((o) => ['-o', o]),
        '-l', opts.user,
        '--',
        address,
        ...command,
      ];
      const r = spawnSync('ssh', sshArgs, { stdio: 'inherit' });
      if (r.error) throw new FloatUserError(`cannot run ssh: ${r.error.message}`, 'F2041');
      setExitCode(r.status ?? 255);
    });
}
