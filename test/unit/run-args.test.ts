import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlaybookCommand, commandLine, resolvePlaybook } from '../../src/ansible/command.js';
import { FloatUserError } from '../../src/config/diagnostics.js';
import { FLOAT_ROOT } from '../../src/config/load.js';
import { parseRunArgs, rollbackProtection } from '../../src/cli/run.js';
import { writeTree } from '../helpers/tree.js';

describe('float run argument handling', () => {
  it('takes the playbook and passes every ansible-playbook option through in order', () => {
    expect(parseRunArgs(['site.yml', '-e', 'a=1', '--check', '--diff', '-vvv', '--limit', 'be1', '--tags', 'x', '--skip-tags', 'y'])).toEqual({
      config: 'config.yml',
      playbook: 'site.yml',
      passthrough: ['-e', 'a=1', '--check', '--diff', '-vvv', '--limit', 'be1', '--tags', 'x', '--skip-tags', 'y'],
    });
  });
  it('accepts --config before or after the playbook, in both spellings', () => {
    expect(parseRunArgs(['--config', 'env/config.yml', 'site']).config).toBe('env/config.yml');
    expect(parseRunArgs(['site', '--config=env/c.yml', '--check'])).toEqual({ config: 'env/c.yml', playbook: 'site', passthrough: ['--check'] });
  });
  it('-c is --config, as in every float command; ansible-playbook gets --connection, or -c after --', () => {
    expect(parseRunArgs(['-c', 'env/config.yml', 'site.yml'])).toEqual({ config: 'env/config.yml', playbook: 'site.yml', passthrough: [] });
    expect(parseRunArgs(['site.yml', '-c', 'env/config.yml', '--check']).config).toBe('env/config.yml');
    expect(parseRunArgs(['site.yml', '--connection', 'local'])).toEqual({ config: 'config.yml', playbook: 'site.yml', passthrough: ['--connection', 'local'] });
    expect(parseRunArgs(['-c', 'e/c.yml', 'site.yml', '--check', '--', '-c', 'local', '--config', 'x'])).toEqual({
      config: 'e/c.yml',
      playbook: 'site.yml',
      passthrough: ['--check', '-c', 'local', '--config', 'x'],
    });
    expect(() => parseRunArgs(['site.yml', '-c'])).toThrow(/-c needs a path/);
    expect(() => parseRunArgs(['site.yml', '--', '-i', 'hosts'])).toThrow(/not allowed/);
    expect(() => parseRunArgs(['site.yml', '-ihosts'])).toThrow(/not allowed/);
  });
  it('options with values before the playbook keep their value', () => {
    expect(parseRunArgs(['-e', 'rollback=true', 'site.yml'])).toEqual({ config: 'config.yml', playbook: 'site.yml', passthrough: ['-e', 'rollback=true'] });
    expect(parseRunArgs(['--extra-vars', '@vars.yml', 'site.yml']).playbook).toBe('site.yml');
  });
  it('--no-wait is float\'s (the lock), not passed to ansible-playbook', () => {
    expect(parseRunArgs(['site.yml', '--no-wait', '--check'])).toEqual({ config: 'config.yml', playbook: 'site.yml', passthrough: ['--check'], noWait: true });
    expect(parseRunArgs(['site.yml']).noWait).toBeUndefined();
  });
  it('refuses -i: the inventory is always the compiled one', () => {
    expect(() => parseRunArgs(['site.yml', '-i', 'hosts'])).toThrow(FloatUserError);
    expect(() => parseRunArgs(['site.yml', '--inventory=hosts'])).toThrow(/not allowed/);
  });
  it('needs a playbook, and a value for value options', () => {
    expect(() => parseRunArgs([])).toThrow(/usage: float run/);
    expect(() => parseRunArgs(['site.yml', '-e'])).toThrow(/-e needs a value/);
  });
});

describe('playbook lookup', () => {
  it('prefers an existing path, relative to the working directory', () => {
    const dir = writeTree({ 'site.yml': '- hosts: all\n' });
    expect(resolvePlaybook('site.yml', FLOAT_ROOT, dir)).toBe(join(dir, 'site.yml'));
  });
  it('falls back to the bundled playbooks, adding .yml', () => {
    const dir = writeTree({});
    expect(resolvePlaybook('init-credentials', FLOAT_ROOT, dir)).toBe(join(FLOAT_ROOT, 'playbooks/init-credentials.yml'));
    expect(resolvePlaybook('apt-upgrade.yml', FLOAT_ROOT, dir)).toBe(join(FLOAT_ROOT, 'playbooks/apt-upgrade.yml'));
    expect(resolvePlaybook('all', FLOAT_ROOT, dir)).toBe(join(FLOAT_ROOT, 'playbooks/all.yml'));
  });
  it('an unknown playbook is a clear error', () => {
    expect(() => resolvePlaybook('nope', FLOAT_ROOT, writeTree({}))).toThrow(/playbook 'nope' not found/);
  });
  it('a user playbook shadows a bundled one of the same name', () => {
    const dir = writeTree({});
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'all.yml'), '- hosts: all\n');
    expect(resolvePlaybook('all.yml', FLOAT_ROOT, dir)).toBe(join(dir, 'all.yml'));
  });
});

describe('the ansible-playbook command', () => {
  const cmd = buildPlaybookCommand({
    floatRoot: '/opt/float',
    configDir: '/srv/conf',
    inventoryDir: '/srv/conf/.float/inventory',
    playbook: '/srv/conf/site.yml',
    passthrough: ['--check', '-e', 'x=1 y=2'],
    vaultPasswordFile: '/srv/conf/.vault_password',
    rolesPaths: ['/srv/roles'],
    floatVars: { float_config_commit: 'abc', float_config_dirty: false },
  });
  it('is built as data', () => {
    expect(commandLine(cmd)).toBe(
      `ansible-playbook -i /srv/conf/.float/inventory -e '{"float_config_commit":"abc"}' -e '{"float_config_dirty":false}' --check -e 'x=1 y=2' /srv/conf/site.yml`,
    );
    expect(cmd.cwd).toBe('/srv/conf');
  });
  it('sets roles path, force_handlers and the vault password file', () => {
    expect(cmd.env).toMatchObject({
      ANSIBLE_ROLES_PATH: '/opt/float/roles:/srv/roles:/srv/conf/roles',
      ANSIBLE_FORCE_HANDLERS: 'True',
      ANSIBLE_VAULT_PASSWORD_FILE: '/srv/conf/.vault_password',
    });
  });
});

describe('running ansible-playbook', () => {
  it('a missing ansible-playbook is a clear error saying how to install it', async () => {
    const { runPlaybook } = await import('../../src/ansible/run.js');
    await expect(runPlaybook({ file: 'ansible-playbook', args: ['--version'], env: { PATH: '/nonexistent' }, cwd: '/' })).rejects.toThrow(
      /ansible-playbook not found: install Ansible \(on Debian: apt-get install ansible\)/,
    );
  });
  it("the exit code is ansible-playbook's", async () => {
    const { runPlaybook } = await import('../../src/ansible/run.js');
    const dir = writeTree({ 'fail.yml': '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.fail:\n        msg: boom\n' });
    expect(await runPlaybook({ file: 'ansible-playbook', args: ['-i', 'localhost,', '-c', 'local', join(dir, 'fail.yml')], env: { ANSIBLE_NOCOLOR: '1' }, cwd: dir })).toBe(2);
  });
  it('a playbook run ended by a signal exits 128 + its number, as a shell reports it', async () => {
    const { runPlaybook } = await import('../../src/ansible/run.js');
    expect(await runPlaybook({ file: 'sh', args: ['-c', 'kill -TERM $$'], env: {}, cwd: '/' })).toBe(143);
  });
});

describe('rollback protection and git', () => {
  const commit = 'a'.repeat(40);
  const ok = { ok: true as const, state: { commit, dirty: false } };
  const refused = { ok: false as const, notARepository: false, reason: 'fatal: detected dubious ownership in repository at /srv/conf' };
  const none = { ok: false as const, notARepository: true, reason: 'fatal: not a git repository (or any of the parent directories): .git' };
  it('passes the commit and the mode to the roles', () => {
    expect(rollbackProtection('auto', ok, '/srv/conf')).toEqual({
      vars: { float_config_commit: commit, float_config_dirty: false, float_rollback_protection: 'auto' },
      diagnostics: [],
    });
    expect(rollbackProtection('auto', { ok: true, state: { commit, dirty: true } }, '/srv/conf').diagnostics.map((d) => [d.code, d.severity])).toEqual([['F3015', 'warning']]);
  });
  it('git refusing the repository is a warning (auto) or an error (required), never silence', () => {
    const w = rollbackProtection('auto', refused, '/srv/conf');
    expect(w.vars).toEqual({});
    expect(w.diagnostics).toEqual([expect.objectContaining({ code: 'F3014', severity: 'warning', message: expect.stringContaining('dubious ownership') })]);
    expect(() => rollbackProtection('required', refused, '/srv/conf')).toThrow(/rollback protection is required .*dubious ownership/);
  });
  it('no repository: nothing to protect (auto), refused (required); off asks nothing', () => {
    expect(rollbackProtection('auto', none, '/srv/conf')).toEqual({ vars: {}, diagnostics: [] });
    expect(() => rollbackProtection('required', none, '/srv/conf')).toThrow(FloatUserError);
    expect(rollbackProtection('off', undefined, '/srv/conf')).toEqual({ vars: {}, diagnostics: [] });
  });
});
