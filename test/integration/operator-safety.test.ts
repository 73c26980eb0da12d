// The operator's machine: what float leaves on disk, and that damaged files are
// user errors naming the file (never "internal error", never silently ignored).
// Real CLI processes, real tools (openssl).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeVaultCodec } from '../../src/credentials/vault.js';
import { resolvedInventoryDir } from '../../src/inventory/emit.js';
import { baseTree, REPO_ROOT, writeTree } from '../helpers/tree.js';

const PASSWORD = 'operator safety test password';

export function credsTree(over: Record<string, string> = {}): { root: string; config: string; pw: string } {
  const root = writeTree({
    ...baseTree({
      'config.yml': 'plugin: float\ncredentials_dir: creds/\n',
      'services.yml': `include: ${REPO_ROOT}/services.default.yml\nweb:\n  scheduling_group: backend\n  service_credentials:\n    - name: web\n`,
      'passwords.yml': '- name: web_db_password\n  length: 24\n',
    }),
    ...over,
  });
  const pw = join(root, 'vault-pw');
  writeFileSync(pw, PASSWORD + '\n');
  chmodSync(pw, 0o600);
  return { root, config: join(root, 'config.yml'), pw };
}

export function float(args: string[], pwFile?: string): { status: number; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env.ANSIBLE_VAULT_PASSWORD_FILE;
  if (pwFile) env.ANSIBLE_VAULT_PASSWORD_FILE = pwFile;
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/float.mjs'), ...args], { encoding: 'utf8', env, input: '' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function walkAll(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => {
    const p = join(d, e.name);
    return e.isDirectory() ? [p, ...walkAll(p)] : [p];
  });
}

describe('the compiled inventory is readable by its owner only', () => {
  it('directories 0700, files 0600 (it holds copies of the vault files)', () => {
    const { root, config, pw } = credsTree();
    const r = float(['init-credentials', '--config', config], pw);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const inv = resolvedInventoryDir(join(root, '.float/inventory'));
    const entries = walkAll(inv);
    expect(entries).toContain(join(inv, 'group_vars/all/secrets.yml'));
    expect(entries).toContain(join(inv, 'host_vars/host2/private_keys.yml'));
    expect(statSync(inv).mode & 0o777).toBe(0o700);
    for (const p of entries) {
      const st = lstatSync(p);
      expect([p, st.mode & 0o777]).toEqual([p, st.isDirectory() ? 0o700 : 0o600]);
    }
  });
});

describe('damaged credentials files are user errors naming the file', () => {
  const { root, config, pw } = credsTree();
  const x509 = join(root, 'creds/x509');
  const index = join(x509, 'index.json');
  it('set up', () => {
    expect(float(['init-credentials', '--config', config], pw).status).toBe(0);
  });

  for (const [what, text] of [
    ['not JSON', '{"certs": {'],
    ['certs not an object', '{"certs": [1, 2], "keyFiles": {}}'],
    ['an entry without its fields', '{"certs": {"host2/web/server": {"request": 1}}, "keyFiles": {}}'],
  ]) {
    it(`index.json: ${what}`, () => {
      const good = readFileSync(index, 'utf8');
      writeFileSync(index, text);
      try {
        const r = float(['init-credentials', '--config', config], pw);
        expect(r.stderr).not.toContain('internal error');
        expect(r.stderr).toContain(`${index}: malformed`);
        expect(r.stderr).toContain('[F3011]');
        expect(r.status).toBe(2);
      } finally {
        writeFileSync(index, good);
      }
    });
  }

  for (const [what, yaml] of [
    ['not YAML', 'float_host_private_keys: {"web/server": "-----BEGIN PRIVATE KEY-----\n  [secret'],
    ['keys not a mapping', 'float_host_private_keys: [secretkeymaterial]\n'],
    ['not a mapping at all', '- secretkeymaterial\n'],
  ]) {
    it(`private_keys.yml: ${what}`, () => {
      const keys = join(x509, 'host2/private_keys.yml');
      const good = readFileSync(keys, 'utf8');
      writeFileSync(keys, makeVaultCodec(PASSWORD).encrypt(yaml));
      try {
        const r = float(['init-credentials', '--config', config], pw);
        expect(r.stderr).not.toContain('internal error');
        expect(r.stderr).toContain(keys);
        expect(r.stderr).toContain('[F3011]');
        expect(r.stderr).not.toContain('secret'); // decrypted content is never echoed
        expect(r.status).toBe(2);
      } finally {
        writeFileSync(keys, good);
      }
    });
  }
});

describe.skipIf(process.getuid?.() !== 0)('a corrupt test-environment state.json', () => {
  it('env down refuses, naming the file, instead of forgetting the processes it must stop', () => {
    const { root, config } = credsTree({
      'config.yml': 'plugin: float\ntest_env:\n  network: 10.251.77.0/24\n  name: opsafe\n',
      'hosts.yml': 'hosts:\n  host1:\n    ips: [10.251.77.10]\n    groups: [frontend]\n',
      '.float-env/state.json': '{"name": "opsafe", "hosts": {"host1": {"ip": "10.251.77.10", "pid": 4',
    });
    const state = join(root, '.float-env/state.json');
    const r = float(['env', 'down', '--config', config]);
    expect(r.stderr).not.toContain('internal error');
    expect(r.stderr).toContain(`${state}: not valid JSON`);
    expect(r.stderr).toContain('[F3010]');
    expect(r.status).toBe(2);
    expect(existsSync(state)).toBe(true); // not deleted either
  });
});

describe.skipIf(process.getuid?.() !== 0)('scripts/demo.mjs', () => {
  it('stops when create-env fails, instead of going on to boot hosts', () => {
    // A copy of the script in a scratch root whose .demo is a plain file: create-env
    // really fails there (it cannot create the directory), and nothing can boot.
    const root = writeTree({ 'scripts/demo.mjs': readFileSync(join(REPO_ROOT, 'scripts/demo.mjs'), 'utf8'), '.demo': 'not a directory\n' });
    symlinkSync(join(REPO_ROOT, 'bin'), join(root, 'bin'));
    symlinkSync(join(REPO_ROOT, 'examples'), join(root, 'examples'));
    const r = spawnSync(process.execPath, [join(root, 'scripts/demo.mjs')], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toMatch(/demo: float create-env .* failed \(exit [1-9]/);
    expect(r.stderr).not.toContain('booting the hosts');
    expect(r.status).not.toBe(0);
  });
});
