// float create-env: writes a complete test environment (config.yml, hosts.yml,
// group_vars, ansible.cfg, site.yml, services.yml, passwords.yml, a vault
// password, and a Vagrantfile or local test host settings). `planEnv` computes
// the files from the options (randomness passed in); `writeEnv` writes them.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IPv4, IPv4CidrRange } from 'ip-num';
import nunjucks from 'nunjucks';
import { parse as parseYamlScalar } from 'yaml';
import { FloatUserError } from '../config/diagnostics.js';
import { FLOAT_ROOT } from '../config/load.js';
import { toYaml } from '../inventory/emit.js';

const templates = new nunjucks.Environment(new nunjucks.FileSystemLoader(fileURLToPath(new URL('templates', import.meta.url))), {
  autoescape: false,
  trimBlocks: true,
  lstripBlocks: true,
  throwOnUndefined: false,
});

export interface CreateEnvOptions {
  dir: string;
  vagrant: boolean;
  /** undefined: no libvirt; 'localhost' or 'USER@HOST'. */
  libvirt?: string;
  local: boolean;
  numHosts: number;
  ram: number;
  /** Public domain (domain_public). */
  domain: string;
  /** Internal domain (domain). */
  infraDomain: string;
  services: string[];
  /** Include float's built-in services (services.default.yml) before `services`; default true. */
  builtinServices?: boolean;
  passwords: string[];
  playbooks: string[];
  rolesPath?: string;
  additionalHostGroups: string[];
  extraVars: string[];
  /** The directory relative paths on the command line are relative to. */
  cwd: string;
}

export interface EnvRandom {
  /** The /24 network, e.g. 10.23.45.0/24. */
  network: string;
  vaultPassword: string;
}

type Tree = Record<string, unknown>;

/** Sets a dotted key (a.b.c=value) in a nested object; values are parsed as YAML scalars. */
function setDotted(target: Tree, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new FloatUserError(`-e ${assignment}: expected KEY=VALUE with a dotted KEY (e.g. config.apt_proxy=1.2.3.4:3142)`, 'F2040');
  const path = assignment.slice(0, eq).split('.');
  const raw = assignment.slice(eq + 1);
  let value: unknown;
  try {
    value = parseYamlScalar(raw);
  } catch {
    value = raw;
  }
  if (value === null && raw !== 'null' && raw !== '~') value = raw;
  let cur = target;
  for (const k of path.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
    cur = cur[k] as Tree;
  }
  cur[path[path.length - 1]] = value;
}

const EXTRA_PREFIXES = ['config', 'ansible_cfg', 'libvirt'];

export function parseExtraVars(assignments: string[]): { config: Tree; ansible_cfg: Tree; libvirt: Tree } {
  const out: Tree = { config: {}, ansible_cfg: {}, libvirt: {} };
  for (const a of assignments) {
    const prefix = a.split('.')[0];
    if (!EXTRA_PREFIXES.includes(prefix) || !a.includes('.')) {
      throw new FloatUserError(`-e ${a}: the key must start with ${EXTRA_PREFIXES.map((p) => `'${p}.'`).join(', ')}`, 'F2040');
    }
    setDotted(out, a);
  }
  return out as { config: Tree; ansible_cfg: Tree; libvirt: Tree };
}

export interface EnvHostPlan {
  name: string;
  ip: string;
  groups: string[];
}

/** host1..hostN from .10 of the network; host1 frontend, the others backend; a single host is both. */
export function planHosts(network: string, numHosts: number, additional: string[]): EnvHostPlan[] {
  if (!Number.isInteger(numHosts) || numHosts < 1) throw new FloatUserError(`--num-hosts must be a positive integer`, 'F2040');
  const range = IPv4CidrRange.fromCidr(network);
  const first = range.getFirst().getValue() + 10n;
  if (first + BigInt(numHosts) > range.getLast().getValue()) throw new FloatUserError(`--num-hosts ${numHosts}: too many hosts for ${network}`, 'F2040');
  const hosts = Array.from({ length: numHosts }, (_, i) => ({
    name: `host${i + 1}`,
    ip: IPv4.fromNumber(first + BigInt(i)).toString(),
    groups: numHosts === 1 ? ['frontend', 'backend'] : i === 0 ? ['frontend'] : ['backend'],
  }));
  for (const spec of additional) {
    const m = /^([A-Za-z0-9_-]+)=([A-Za-z0-9_,-]+)$/.exec(spec);
    if (!m) throw new FloatUserError(`--additional-host-group ${spec}: expected NAME=host1,host2`, 'F2040');
    for (const name of m[2].split(',')) {
      const h = hosts.find((x) => x.name === name);
      if (!h) throw new FloatUserError(`--additional-host-group ${spec}: no host '${name}' (hosts are host1..host${numHosts})`, 'F2040');
      if (!h.groups.includes(m[1])) h.groups.push(m[1]);
    }
  }
  return hosts;
}

/** A path as written in the environment: relative to DIR when inside it, else absolute. */
function pathFor(dir: string, cwd: string, p: string): string {
  const abs = isAbsolute(p) ? p : resolve(cwd, p);
  const rel = relative(dir, abs);
  return rel.startsWith('..') ? abs : rel;
}

function parseLibvirt(value: string | undefined, extra: Tree): Tree | undefined {
  if (value === undefined) return undefined;
  const lv: Tree = { ...extra };
  if (value && value !== 'localhost') {
    const m = /^([^@]+)@(.+)$/.exec(value);
    if (!m) throw new FloatUserError(`--libvirt=${value}: expected USER@HOST or localhost`, 'F2040');
    lv.remote_user = m[1];
    lv.remote_host = m[2];
  }
  return lv;
}

/** The files of the environment, path relative to DIR -> contents. */
export function planEnv(o: CreateEnvOptions, rnd: EnvRandom): Map<string, string> {
  const dir = resolve(o.cwd, o.dir);
  const extra = parseExtraVars(o.extraVars);
  const hosts = planHosts(rnd.network, o.numHosts, o.additionalHostGroups);
  const libvirt = parseLibvirt(o.libvirt, extra.libvirt);
  const files = new Map<string, string>();
  const rolesPath = o.rolesPath ? pathFor(dir, o.cwd, o.rolesPath) : undefined;
  files.set('config.yml', templates.render('config.yml.njk', { local: o.local, network: rnd.network, roles_path: rolesPath }));
  files.set('hosts.yml', templates.render('hosts.yml.njk', { hosts, local: o.local }));
  const config: Tree = {
    testing: true,
    domain: o.infraDomain,
    domain_public: [o.domain],
    float_debian_dist: 'bookworm',
    ...(o.local
      ? {
          // The local test hosts run on a machine without CAP_SYS_RESOURCE: podman
          // must not ask for more open files/processes than it may have.
          float_podman_default_ulimits: ['nofile=20000:20000', 'nproc=32768:32768'],
          float_podman_runtime: 'runc',
        }
      : {}),
  };
  for (const [k, v] of Object.entries(extra.config)) config[k] = v;
  files.set('group_vars/all/config.yml', '# Global variables of a test environment, written by `float create-env`.\n' + toYaml(config));
  const ansibleCfg: Record<string, Record<string, unknown>> = {
    defaults: {
      host_key_checking: 'False',
      retry_files_enabled: 'False',
      force_handlers: 'True',
      // The test hosts are Debian: no interpreter discovery at the start of every run.
      interpreter_python: '/usr/bin/python3',
      // The same file config.yml names: ad-hoc ansible and ansible-inventory run
      // from DIR decrypt the inventory's vaulted variables with it. Ansible reads a
      // relative path here relative to this ansible.cfg.
      vault_password_file: '.vault_password',
      ...(rolesPath ? { roles_path: rolesPath } : {}),
    },
    ssh_connection: { pipelining: 'True' },
  };
  for (const [section, values] of Object.entries(extra.ansible_cfg)) {
    ansibleCfg[section] = { ...(ansibleCfg[section] ?? {}), ...(values as Record<string, unknown>) };
  }
  files.set(
    'ansible.cfg',
    templates.render('ansible.cfg.njk', {
      ansible_cfg: Object.entries(ansibleCfg).map(([s, v]) => [s, Object.entries(v)]),
    }),
  );
  files.set(
    'site.yml',
    templates.render('site.yml.njk', {
      float_playbook: join(FLOAT_ROOT, 'playbooks', 'all.yml'),
      playbooks: o.playbooks.map((p) => pathFor(dir, o.cwd, p)),
    }),
  );
  // The built-in services (frontend, acme) serve every public endpoint: included
  // first, so the operator's files can override them, unless asked not to.
  const builtin = o.builtinServices === false ? [] : [join(FLOAT_ROOT, 'services.default.yml')];
  const services = [...builtin, ...o.services.map((p) => pathFor(dir, o.cwd, p))];
  files.set('services.yml', '# Services of a test environment, written by `float create-env`.\n' + toYaml({ include: services }));
  const passwords = o.passwords.length ? o.passwords.map((p) => pathFor(dir, o.cwd, p)) : [join(FLOAT_ROOT, 'passwords.yml.default')];
  files.set('passwords.yml', '# Secrets of a test environment, written by `float create-env`.\n' + toYaml(passwords.map((p) => ({ include: p }))));
  files.set('.vault_password', rnd.vaultPassword + '\n');
  files.set('.gitignore', '.vault_password\n.float/\n.float-env/\n.vagrant/\n');
  if (o.vagrant || libvirt) files.set('Vagrantfile', templates.render('Vagrantfile.njk', { hosts, ram: o.ram, libvirt }));
  return files;
}

/** Writes the files into DIR (built beside it, then moved in); refuses to overwrite an environment. */
export function writeEnv(dir: string, files: Map<string, string>, force = false): void {
  if (existsSync(join(dir, 'config.yml')) && !force) {
    throw new FloatUserError(`${dir} already holds a float configuration (config.yml); use --force to overwrite it`, 'F2042');
  }
  const staging = `${dir.replace(/\/+$/, '')}.new-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    for (const [rel, text] of files) {
      const p = join(staging, rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text, { mode: rel === '.vault_password' ? 0o600 : 0o644 });
    }
    mkdirSync(dir, { recursive: true });
    for (const rel of files.keys()) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      renameSync(join(staging, rel), join(dir, rel));
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
