import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseExtraVars, planEnv, planHosts, writeEnv, type CreateEnvOptions } from '../../src/env/create-env.js';
import { FloatUserError } from '../../src/config/diagnostics.js';
import { REPO_ROOT, writeTree } from '../helpers/tree.js';

const FLOAT = join(REPO_ROOT, 'bin/float.mjs');

function options(over: Partial<CreateEnvOptions> = {}): CreateEnvOptions {
  return {
    dir: 'env',
    vagrant: false,
    local: false,
    numHosts: 3,
    ram: 2048,
    domain: 'example.com',
    infraDomain: 'infra.example.com',
    services: [],
    passwords: [],
    playbooks: [],
    additionalHostGroups: [],
    extraVars: [],
    cwd: '/tmp',
    ...over,
  };
}
const RND = { network: '10.42.7.0/24', vaultPassword: 'pw' };

describe('create-env options', () => {
  it('hosts: host1 frontend, the others backend, addresses from .10', () => {
    expect(planHosts('10.42.7.0/24', 3, [])).toEqual([
      { name: 'host1', ip: '10.42.7.10', groups: ['frontend'] },
      { name: 'host2', ip: '10.42.7.11', groups: ['backend'] },
      { name: 'host3', ip: '10.42.7.12', groups: ['backend'] },
    ]);
  });
  it('a single host is both frontend and backend', () => {
    expect(planHosts('10.42.7.0/24', 1, [])).toEqual([{ name: 'host1', ip: '10.42.7.10', groups: ['frontend', 'backend'] }]);
  });
  it('additional host groups, and unknown hosts in them', () => {
    expect(planHosts('10.42.7.0/24', 2, ['db=host1,host2', 'x=host2']).map((h) => h.groups)).toEqual([
      ['frontend', 'db'],
      ['backend', 'db', 'x'],
    ]);
    expect(() => planHosts('10.42.7.0/24', 2, ['db=host9'])).toThrow(/no host 'host9'/);
    expect(() => planHosts('10.42.7.0/24', 2, ['nonsense'])).toThrow(FloatUserError);
  });
  it('-e dotted keys nest and parse as YAML scalars; other prefixes are errors', () => {
    expect(parseExtraVars(['config.apt_proxy=1.2.3.4:3142', 'config.nested.flag=true', 'config.n=3', 'ansible_cfg.defaults.forks=20'])).toEqual({
      config: { apt_proxy: '1.2.3.4:3142', nested: { flag: true }, n: 3 },
      ansible_cfg: { defaults: { forks: 20 } },
      libvirt: {},
    });
    expect(() => parseExtraVars(['other.x=1'])).toThrow(/must start with/);
    expect(() => parseExtraVars(['config.x'])).toThrow(/KEY=VALUE/);
  });
  it('writes domains, testing, -e config values and ansible.cfg overrides', () => {
    const files = planEnv(options({ extraVars: ['config.apt_proxy=proxy:3142', 'ansible_cfg.defaults.forks=7'], domain: 'pub.org', infraDomain: 'int.org' }), RND);
    const cfg = parse(files.get('group_vars/all/config.yml')!);
    expect(cfg).toMatchObject({ testing: true, domain: 'int.org', domain_public: ['pub.org'], apt_proxy: 'proxy:3142' });
    expect(files.get('ansible.cfg')).toMatch(/\[defaults\][^[]*forks = 7/);
    expect(parse(files.get('config.yml')!)).toMatchObject({ plugin: 'float', vault_password_file: '.vault_password' });
    expect(parse(files.get('services.yml')!)).toEqual({ include: [join(REPO_ROOT, 'services.default.yml')] });
    expect(parse(files.get('site.yml')!)).toEqual([{ import_playbook: join(REPO_ROOT, 'playbooks/all.yml') }]);
    expect(files.has('Vagrantfile')).toBe(false);
  });
  it('--local: test_env, root over SSH with the environment key, podman limits for this machine', () => {
    const files = planEnv(options({ local: true }), RND);
    expect(parse(files.get('config.yml')!).test_env).toEqual({ network: '10.42.7.0/24' });
    expect(parse(files.get('hosts.yml')!).group_vars.all).toMatchObject({ ansible_user: 'root', ansible_ssh_private_key_file: '.float-env/ssh/id_ed25519' });
    expect(parse(files.get('group_vars/all/config.yml')!).float_podman_default_ulimits).toEqual(['nofile=20000:20000', 'nproc=32768:32768']);
  });
});

describe('create-env on disk', () => {
  it('writes an environment float check accepts, with a private vault password', () => {
    const root = writeTree({ 'svc.yml': `include: ${REPO_ROOT}/services.default.yml\nweb:\n  scheduling_group: backend\n  num_instances: 1\n` });
    const out = execFileSync(process.execPath, [FLOAT, 'create-env', 'env', '--local', '--services', 'svc.yml', '--playbook', 'play.yml'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(out).toContain('created a test environment');
    const dir = join(root, 'env');
    expect(statSync(join(dir, '.vault_password')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toContain('.vault_password');
    // The built-in services come first even when --services is given (issue 22).
    expect(parse(readFileSync(join(dir, 'services.yml'), 'utf8'))).toEqual({ include: [join(REPO_ROOT, 'services.default.yml'), join(root, 'svc.yml')] });
    const check = spawnSync(process.execPath, [FLOAT, 'check', '--config', join(dir, 'config.yml')], { encoding: 'utf8' });
    expect(check.stdout).toBe('ok: 7 services, 3 hosts\n');
    expect(check.status).toBe(0);
    // A second create-env into the same directory refuses.
    const again = spawnSync(process.execPath, [FLOAT, 'create-env', 'env'], { cwd: root, encoding: 'utf8' });
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('--force');
  });

  it('--services with public endpoints includes the built-in services; --no-builtin-services leaves them out and check says why', () => {
    const root = writeTree({ 'svc.yml': 'web:\n  scheduling_group: backend\n  public_endpoints:\n    - {name: www, port: 8080}\n' });
    const run = (...args: string[]) => spawnSync(process.execPath, [FLOAT, ...args], { cwd: root, encoding: 'utf8' });
    expect(run('create-env', 'env', '--services', 'svc.yml').status).toBe(0);
    expect(parse(readFileSync(join(root, 'env/services.yml'), 'utf8')).include).toEqual([join(REPO_ROOT, 'services.default.yml'), join(root, 'svc.yml')]);
    const ok = run('check', '--config', 'env/config.yml');
    expect(ok.stdout).toBe('ok: 7 services, 3 hosts\n');
    expect(run('create-env', 'bare', '--services', 'svc.yml', '--no-builtin-services').status).toBe(0);
    expect(parse(readFileSync(join(root, 'bare/services.yml'), 'utf8')).include).toEqual([join(root, 'svc.yml')]);
    const bare = run('check', '--config', 'bare/config.yml');
    expect(bare.status).toBe(2);
    expect(bare.stderr).toMatch(/svc\.yml:4:7: error: .*services\.default\.yml.* \[F2023\]/);
  });

  it('ad-hoc ansible in the environment decrypts the vaulted inventory variables (ansible.cfg names the vault password file)', () => {
    const root = writeTree({
      'svc.yml': 'web:\n  scheduling_group: backend\n  num_instances: 1\n',
      'pw.yml': '- {name: my_secret, description: a test secret}\n',
    });
    const run = (cmd: string, args: string[], cwd = root) => spawnSync(cmd, args, { cwd, encoding: 'utf8' });
    expect(run(process.execPath, [FLOAT, 'create-env', 'env', '--services', 'svc.yml', '--passwords', 'pw.yml']).status).toBe(0);
    const dir = join(root, 'env');
    expect(readFileSync(join(dir, 'ansible.cfg'), 'utf8')).toMatch(/\[defaults\][^[]*vault_password_file = \.vault_password/);
    const init = run(process.execPath, [FLOAT, 'init-credentials', '--config', 'env/config.yml']);
    expect(init.stderr).toBe('');
    expect(init.status).toBe(0);
    // The secret is vault-encrypted in the inventory...
    expect(readFileSync(join(dir, '.float/inventory/group_vars/all/secrets.yml'), 'utf8')).toContain('$ANSIBLE_VAULT;1.1;AES256');
    // ...and the real ansible, run from the environment with no other setting, reads it.
    const env = { ...process.env };
    delete env.ANSIBLE_VAULT_PASSWORD_FILE;
    delete env.ANSIBLE_CONFIG;
    const r = spawnSync('ansible', ['-i', '.float/inventory', 'host1', '-m', 'debug', '-a', 'var=my_secret'], { cwd: dir, encoding: 'utf8', env });
    expect(r.stderr).not.toContain('no vault secrets');
    expect(r.status).toBe(0);
    const password = /"my_secret": "([^"]+)"/.exec(r.stdout)?.[1];
    expect(password).toMatch(/^[A-Za-z0-9+/=]{16,}$/);
  }, 60_000);

  it('vagrant validate accepts the generated Vagrantfiles (VirtualBox and libvirt)', () => {
    for (const libvirt of [undefined, 'localhost', 'admin@virt.example.com']) {
      const dir = join(writeTree({}), 'env');
      writeEnv(dir, planEnv(options({ dir, vagrant: true, libvirt, numHosts: 2, ram: 1024 }), RND));
      const vf = readFileSync(join(dir, 'Vagrantfile'), 'utf8');
      expect(vf).toContain('ip: "10.42.7.11"');
      expect(vf).toContain(libvirt ? ':libvirt' : ':virtualbox');
      if (libvirt === 'admin@virt.example.com') expect(vf).toContain('libvirt.host = "virt.example.com"');
      // No hypervisor runs here: validate the Vagrantfile itself, providers' config ignored.
      const r = spawnSync('vagrant', ['validate', '--ignore-provider'], { cwd: dir, encoding: 'utf8', env: { ...process.env, VAGRANT_CHECKPOINT_DISABLE: '1' } });
      expect(r.stdout + r.stderr).toContain('Vagrantfile validated successfully');
      expect(r.status).toBe(0);
    }
  });
});

