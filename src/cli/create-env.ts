// float create-env DIR: write a test environment.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { planEnv, writeEnv } from '../env/create-env.js';
import { pickFreeNetwork } from '../env/spec.js';
import { randomBytes } from 'node:crypto';

const collect = (v: string, prev: string[]) => [...prev, v];

export function register(program: Command): void {
  program
    .command('create-env')
    .description('write a test environment (testing: true): config, inventory, playbook, and a Vagrantfile (--vagrant, --libvirt) or local test hosts (--local)')
    .argument('<dir>', 'directory to create')
    .option('--vagrant', 'write a Vagrantfile (VirtualBox unless --libvirt)')
    .option('--libvirt [target]', 'Vagrant with libvirt: localhost (default) or USER@HOST over SSH')
    .option('--local', 'hosts booted on this machine with `float env up` (systemd-nspawn)')
    .option('--num-hosts <n>', 'number of hosts (host1 frontend, the others backend)', (v) => Number(v), 3)
    .option('--ram <mb>', 'memory per Vagrant VM, in MB', (v) => Number(v), 2048)
    .option('--domain <domain>', 'public domain (domain_public)', 'example.com')
    .option('--infra-domain <domain>', 'internal domain (domain)', 'infra.example.com')
    .option('--services <file>', "services file to include after float's built-in services.default.yml (repeatable)", collect, [])
    .option('--no-builtin-services', "do not include float's services.default.yml (frontend, acme): public endpoints then have nothing to serve them")
    .option('--passwords <file>', 'passwords file to include (repeatable; default: float passwords.yml.default)', collect, [])
    .option('--playbook <file>', 'playbook to import after float playbooks/all.yml (repeatable)', collect, [])
    .option('--roles-path <path>', 'where your own Ansible roles are')
    .option('--additional-host-group <name=hosts>', 'extra group: NAME=host1,host2 (repeatable)', collect, [])
    .option('-e, --extra <key=value>', 'set config.KEY, ansible_cfg.SECTION.KEY or libvirt.KEY (repeatable)', collect, [])
    .option('--force', 'overwrite an existing environment in DIR')
    .action(
      (
        dir: string,
        o: {
          vagrant?: boolean;
          libvirt?: string | boolean;
          local?: boolean;
          numHosts: number;
          ram: number;
          domain: string;
          infraDomain: string;
          services: string[];
          builtinServices: boolean;
          passwords: string[];
          playbook: string[];
          rolesPath?: string;
          additionalHostGroup: string[];
          extra: string[];
          force?: boolean;
        },
      ) => {
        const libvirt = o.libvirt === undefined ? undefined : o.libvirt === true ? 'localhost' : String(o.libvirt);
        const files = planEnv(
          {
            dir,
            vagrant: !!o.vagrant || libvirt !== undefined,
            libvirt,
            local: !!o.local,
            numHosts: o.numHosts,
            ram: o.ram,
            domain: o.domain,
            infraDomain: o.infraDomain,
            services: o.services,
            builtinServices: o.builtinServices,
            passwords: o.passwords,
            playbooks: o.playbook,
            rolesPath: o.rolesPath,
            additionalHostGroups: o.additionalHostGroup,
            extraVars: o.extra,
            cwd: process.cwd(),
          },
          { network: pickFreeNetwork({ onThisMachine: o.local === true }), vaultPassword: randomBytes(32).toString('base64') },
        );
        const target = resolve(dir);
        writeEnv(target, files, !!o.force);
        const next = o.local
          ? `float env up --config ${dir}/config.yml && float run --config ${dir}/config.yml site.yml`
          : files.has('Vagrantfile')
            ? `(cd ${dir} && vagrant up) && float run --config ${dir}/config.yml site.yml`
            : `float run --config ${dir}/config.yml site.yml`;
        process.stdout.write(`created a test environment in ${target} (${[...files.keys()].join(', ')})\nnext: ${next}\n`);
      },
    );
}
