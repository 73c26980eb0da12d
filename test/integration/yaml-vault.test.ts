// Operators' own encrypted variables (issue 14, "Secrets in logs and on disk"):
// an inline `!vault` value and a group_vars file encrypted as a whole with the
// real ansible-vault are read as Ansible reads them, float decrypts the file in
// memory only (for the globals it needs), and the compiled inventory carries
// both still encrypted, which the real `ansible -m debug` decrypts.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { tryPlan } from '../../src/plan.js';
import { parseDecryptedYaml } from '../../src/config/source.js';
import { readSecretsFile } from '../../src/credentials/secrets.js';
import { makeVaultCodec } from '../../src/credentials/vault.js';
import { baseTree, writeTree } from '../helpers/tree.js';

const PASSWORD = 'correct horse battery staple';
const ENV: NodeJS.ProcessEnv = { ...process.env, ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3', ANSIBLE_LOAD_CALLBACK_PLUGINS: '0' };
delete ENV.ANSIBLE_VAULT_PASSWORD_FILE;

/** A configuration whose vault password file is `.vault_password`. */
function tree(files: Record<string, string>): string {
  const t = baseTree({ 'config.yml': 'plugin: float\nvault_password_file: .vault_password\n', '.vault_password': `${PASSWORD}\n`, ...files });
  delete t['group_vars/all.yml'];
  return writeTree(t);
}

function vault(dir: string, args: string[]): string {
  return execFileSync('ansible-vault', [...args, '--vault-password-file', join(dir, '.vault_password')], { cwd: dir, encoding: 'utf8', env: ENV });
}

/** Every file of a tree, relative path -> text. */
function filesOf(dir: string, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(join(dir, prefix))) {
    const rel = join(prefix, e);
    if (statSync(join(dir, rel)).isDirectory()) for (const [k, v] of filesOf(dir, rel)) out.set(k, v);
    else out.set(rel, readFileSync(join(dir, rel), 'utf8'));
  }
  return out;
}

/** The variables as Ansible gives them to each host, with the vault password. */
function ansibleVars(inventory: string, dir: string, names: string[]): Record<string, Record<string, unknown>> {
  const expr = `[${names.join(',')}]`;
  const out = execFileSync('ansible', ['all', '-i', inventory, '-c', 'local', '-m', 'debug', '-a', `var=${expr}`, '-o'], {
    encoding: 'utf8',
    env: { ...ENV, ANSIBLE_VAULT_PASSWORD_FILE: join(dir, '.vault_password') },
  });
  const result: Record<string, Record<string, unknown>> = {};
  for (const line of out.split('\n').filter((l) => l.includes(' | SUCCESS => '))) {
    const values = JSON.parse(line.slice(line.indexOf('{')))[expr] as unknown[];
    result[line.slice(0, line.indexOf(' | '))] = Object.fromEntries(names.map((n, i) => [n, values[i]]));
  }
  return result;
}

const at = (dir: string) =>
  tryPlan(join(dir, 'config.yml')).diagnostics.map((d) => ({ at: `${d.pos?.file.replace(dir + '/', '')}:${d.pos?.line}:${d.pos?.col} ${d.code}`, message: d.message }));

describe("operators' encrypted variables", () => {
  it('an inline !vault value and a vault-encrypted group_vars file reach Ansible decrypted, and are never written in the clear', () => {
    const dir = tree({
      'group_vars/all/plain.yml': 'domain_public: [example.com]\nplain_var: n\n',
      'group_vars/all/vault.yml': 'domain: internal.example.com\nvault_db_password: hunter2-all\nvault_mode: 017\n',
      'group_vars/backend.yml': 'backend_token: tok-backend-42\n',
    });
    vault(dir, ['encrypt', 'group_vars/all/vault.yml', 'group_vars/backend.yml']);
    expect(readFileSync(join(dir, 'group_vars/all/vault.yml'), 'utf8')).toMatch(/^\$ANSIBLE_VAULT;1\.1;AES256\n/);
    const inline = vault(dir, ['encrypt_string', 's3cr3t-inline-value', '--name', 'inline_secret']);
    expect(inline).toMatch(/^inline_secret: !vault \|\n/);
    writeFileSync(join(dir, 'group_vars/all/plain.yml'), `domain_public: [example.com]\nplain_var: n\n${inline}`);
    // A host variable, indented under its host in hosts.yml.
    const hostInline = vault(dir, ['encrypt_string', 'host-only-secret', '--name', 'host_secret']).replace(/^/gm, '    ');
    writeFileSync(join(dir, 'hosts.yml'), `hosts:\n  host1:\n    ips: [10.0.0.1]\n    groups: [frontend]\n${hostInline}\n  host2:\n    ips: [10.0.0.2]\n    groups: [backend]\n`);

    const out = join(dir, 'inventory');
    const c = compile(join(dir, 'config.yml'), { out });
    // float read the global it needs from the encrypted file.
    expect(c.plan.model.globals.domain).toBe('internal.example.com');
    expect(c.plan.model.encryptedKeys).toEqual({ all: ['domain', 'vault_db_password', 'vault_mode'], backend: ['backend_token'] });

    // Nothing decrypted on disk: neither the inline value nor the encrypted files' values.
    const files = filesOf(out);
    for (const [rel, text] of files) {
      for (const secret of ['s3cr3t-inline-value', 'hunter2-all', 'tok-backend-42', 'host-only-secret']) expect(text, `${rel} holds ${secret}`).not.toContain(secret);
    }
    expect(files.get('group_vars/all/00-encrypted-001-vault.yml')).toBe(readFileSync(join(dir, 'group_vars/all/vault.yml'), 'utf8'));
    expect(files.get('group_vars/backend/00-encrypted-001-backend.yml')).toBe(readFileSync(join(dir, 'group_vars/backend.yml'), 'utf8'));
    expect(files.get('group_vars/all/config.yml')).toContain('inline_secret: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n');

    // Ansible decrypts all of it.
    const vars = ansibleVars(out, dir, ['inline_secret', 'vault_db_password', 'vault_mode', 'domain', 'plain_var', "backend_token|default('none')"]);
    expect(vars.host1).toEqual({
      inline_secret: 's3cr3t-inline-value',
      vault_db_password: 'hunter2-all',
      vault_mode: 15,
      domain: 'internal.example.com',
      plain_var: 'n',
      "backend_token|default('none')": 'none',
    });
    expect(vars.host2["backend_token|default('none')"]).toBe('tok-backend-42');
    expect(vars.host2.inline_secret).toBe('s3cr3t-inline-value');
    expect(ansibleVars(out, dir, ["host_secret|default('none')"])).toEqual({
      host1: { "host_secret|default('none')": 'host-only-secret' },
      host2: { "host_secret|default('none')": 'none' },
    });
  });

  it('an !unsafe value stays unsafe: Ansible does not template it (group_vars, hosts.yml group_vars and host variables); 8.0 stays a float', () => {
    const dir = tree({
      'group_vars/all/plain.yml':
        "domain: internal.example.com\ndomain_public: [example.com]\nraw_all: !unsafe '{{ 6 * 7 }}'\ntemplated: '{{ 6 * 7 }}'\nphp_version: 8.0\n",
      'hosts.yml':
        "hosts:\n  host1:\n    ips: [10.0.0.1]\n    groups: [backend]\n    raw_host: !unsafe '{{ 6 * 7 }}'\n    ansible_user: !unsafe root\ngroup_vars:\n  backend:\n    raw_list: [!unsafe '{{ 6 * 7 }}']\n",
    });
    const out = join(dir, 'inventory');
    const c = compile(join(dir, 'config.yml'), { out });
    expect(c.plan.model.hosts[0].name).toBe('host1');
    expect(readFileSync(join(out, 'group_vars/all/config.yml'), 'utf8')).toContain('raw_all: !unsafe "{{ 6 * 7 }}"');
    expect(ansibleVars(out, dir, ['raw_all', 'templated', 'raw_host', 'raw_list', 'php_version|string']).host1).toEqual({
      raw_all: '{{ 6 * 7 }}',
      // A float stays a float (it was the int 8 after compile).
      'php_version|string': '8.0',
      templated: '42',
      raw_host: '{{ 6 * 7 }}',
      raw_list: ['{{ 6 * 7 }}'],
    });
  });

  it('a plain file overriding a variable of an encrypted file wins, as in float, in Ansible too', () => {
    const dir = tree({
      'group_vars/all/a.yml': 'domain: internal.example.com\ndomain_public: [example.com]\nshared: from-vault\n',
      'group_vars/all/b.yml': 'shared: from-plain\n',
    });
    vault(dir, ['encrypt', 'group_vars/all/a.yml']);
    const out = join(dir, 'inventory');
    const c = compile(join(dir, 'config.yml'), { out });
    expect(c.plan.model.globals.shared).toBe('from-plain');
    expect(ansibleVars(out, dir, ['shared', 'domain']).host1).toEqual({ shared: 'from-plain', domain: 'internal.example.com' });
  });

  it('an encrypted file float cannot decrypt is a positioned F1045, whatever the reason', () => {
    const dir = tree({ 'group_vars/all/vault.yml': 'domain: internal.example.com\ndomain_public: [example.com]\n' });
    vault(dir, ['encrypt', 'group_vars/all/vault.yml']);
    writeFileSync(join(dir, '.vault_password'), 'wrong password\n');
    const wrong = at(dir);
    expect(wrong.map((d) => d.at)).toEqual(['group_vars/all/vault.yml:1:1 F1045']);
    expect(wrong[0].message).toContain('wrong vault password');
    writeFileSync(join(dir, 'config.yml'), 'plugin: float\n');
    const none = at(dir);
    expect(none.map((d) => d.at)).toEqual(['group_vars/all/vault.yml:1:1 F1045']);
    expect(none[0].message).toContain('no vault password');
  });

  it('errors in a decrypted file give the file and position, never its content', () => {
    const dir = tree({
      'group_vars/all/plain.yml': 'domain: internal.example.com\n',
      'group_vars/all/vault.yml': 'domain_public: hunter2-not-a-list\n',
      'group_vars/web.yml': 'token: hunter3-secret\n  bad: [x\n',
    });
    vault(dir, ['encrypt', 'group_vars/all/vault.yml', 'group_vars/web.yml']);
    const d = at(dir);
    expect(d.map((x) => x.at)).toEqual([
      'group_vars/all/vault.yml:1:16 F1002',
      'group_vars/web.yml:1:8 F1000',
      'group_vars/web.yml:1:8 F1000',
      'group_vars/web.yml:3:1 F1000',
    ]);
    for (const x of d) expect(x.message).not.toMatch(/hunter|token|bad/);
  });

  it('secrets.yml and private keys that do not parse once decrypted: position only', () => {
    const dir = writeTree({});
    const codec = makeVaultCodec(PASSWORD);
    writeFileSync(join(dir, 'secrets.yml'), codec.encrypt('db_password: hunter2-very-secret\n  bad: [indent\n'));
    expect(() => readSecretsFile(join(dir, 'secrets.yml'), codec)).toThrow(/secrets\.yml:1:14: error: YAML syntax error \(\w+\) in the decrypted content \(not shown\) \[F1000\]/);
    try {
      readSecretsFile(join(dir, 'secrets.yml'), codec);
    } catch (err) {
      expect(String(err)).not.toContain('hunter2');
    }
    expect(() => parseDecryptedYaml('k.yml', 'a: *unknown_secret_anchor\n')).toThrow(/k\.yml:1:4/);
    for (const text of ['a: !!int hunter2\n', 'a: &hunter2 [*hunter2]\n']) {
      expect(() => parseDecryptedYaml('k.yml', text)).toThrow(/F104[13]/);
      try {
        parseDecryptedYaml('k.yml', text);
      } catch (err) {
        expect(String(err)).not.toContain('hunter2');
      }
    }
  });
});
