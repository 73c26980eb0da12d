// The operator's machine: what float leaves on disk, and that damaged files are
// user errors naming the file (never "internal error", never silently ignored).
// Real CLI processes, real tools (openssl).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { makeVaultCodec } from '../../src/credentials/vault.js';
import { resolvedInventoryDir } from '../../src/inventory/emit.js';
import { baseTree, REPO_ROOT, writeTree } from '../helpers/tree.js';
import { skipUnlessRequired } from '../helpers/prerequisites.js';

const notRoot = skipUnlessRequired('the root-only operator safety tests', process.getuid?.() !== 0 ? 'not running as root' : undefined);

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

export function float(args: string[], pwFile?: string, extraEnv: NodeJS.ProcessEnv = {}): { status: number; stdout: string; stderr: string } {
  const env = { ...process.env, ...extraEnv };
  delete env.ANSIBLE_VAULT_PASSWORD_FILE;
  if (pwFile) env.ANSIBLE_VAULT_PASSWORD_FILE = pwFile;
  // Bounded: a float that hangs fails the test instead of freezing the worker.
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/float.mjs'), ...args], { encoding: 'utf8', env, input: '', timeout: 240_000, killSignal: 'SIGKILL' });
  if (r.signal) throw new Error(`float ${args.join(' ')}: killed by ${r.signal} (hung?)\n${r.stderr}`);
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

describe.skipIf(notRoot !== undefined)('a corrupt test-environment state.json', () => {
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

describe.skipIf(notRoot !== undefined)('scripts/demo.mjs', () => {
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

/** A float CLI process, run asynchronously: resolves with its status and output. */
function floatAsync(args: string[], pwFile?: string): Promise<{ status: number; stdout: string; stderr: string; ms: number }> {
  const env = { ...process.env };
  delete env.ANSIBLE_VAULT_PASSWORD_FILE;
  if (pwFile) env.ANSIBLE_VAULT_PASSWORD_FILE = pwFile;
  const t0 = Date.now();
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/float.mjs'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
  return new Promise((res) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      res({ status: code ?? -1, stdout, stderr: signal ? `${stderr}\nkilled by ${signal}` : stderr, ms: Date.now() - t0 });
    }),
  );
}

/**
 * Another process holding the configuration's lock through float's own lock code
 * (as `float run` does while ansible-playbook runs), until it is killed.
 */
async function holdLock(config: string): Promise<ChildProcess> {
  const script = [
    `const { withConfigLock } = await import(${JSON.stringify(join(REPO_ROOT, 'src/lock.ts'))});`,
    "await withConfigLock(process.argv[1], { command: 'float run site.yml' }, () => new Promise(() => { setInterval(() => {}, 1000); process.stdout.write('locked\\n'); }));",
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, config], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((res, rej) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && res());
    child.on('exit', (code) => rej(new Error(`lock holder exited (${code})`)));
  });
  return child;
}

function hosts30(): Record<string, string> {
  const lines = ['hosts:'];
  for (let i = 1; i <= 30; i++) lines.push(`  host${i}:`, `    ips: [10.0.1.${i}]`, `    groups: [${i <= 2 ? 'frontend' : 'backend'}]`);
  return {
    'hosts.yml': lines.join('\n') + '\n',
    'services.yml': [
      `include: ${REPO_ROOT}/services.default.yml`,
      'web:',
      '  scheduling_group: backend',
      '  num_instances: all',
      '  service_credentials:',
      '    - {name: web, server_cert_mode: both}',
      '    - {name: web-worker, enable_server: false}',
      '',
    ].join('\n'),
  };
}

/** Every certificate in credentials_dir against its private key and the CA; the CA key against ca.pem. */
function checkPki(root: string): { certs: number } {
  const x509 = join(root, 'creds/x509');
  const codec = makeVaultCodec(PASSWORD);
  const spki = (k: ReturnType<typeof createPublicKey>) => k.export({ type: 'spki', format: 'der' }).toString('hex');
  const ca = new X509Certificate(readFileSync(join(x509, 'ca.pem')));
  const caKey = codec.decrypt(readFileSync(join(x509, 'ca_private_key.pem'), 'utf8')).toString('utf8');
  expect(spki(createPublicKey(caKey)), 'CA key matches ca.pem').toBe(spki(ca.publicKey));
  let certs = 0;
  for (const host of readdirSync(x509, { withFileTypes: true }).filter((e) => e.isDirectory())) {
    const keys = (parse(codec.decrypt(readFileSync(join(x509, host.name, 'private_keys.yml'), 'utf8')).toString('utf8')) as {
      float_host_private_keys: Record<string, string>;
    }).float_host_private_keys;
    const certFiles = walkAll(join(x509, host.name)).filter((f) => f.endsWith('/cert.pem'));
    expect(Object.keys(keys).sort()).toEqual(certFiles.map((f) => f.slice(join(x509, host.name).length + 1, -'/cert.pem'.length)).sort());
    for (const f of certFiles) {
      const id = f.slice(join(x509, host.name).length + 1, -'/cert.pem'.length);
      const cert = new X509Certificate(readFileSync(f));
      expect(spki(createPublicKey(keys[id])), `${host.name}/${id}: certificate matches its key`).toBe(spki(cert.publicKey));
      expect(cert.verify(ca.publicKey), `${host.name}/${id}: signed by the CA in ca.pem`).toBe(true);
      certs++;
    }
  }
  return { certs };
}

describe('one float process at a time per configuration', () => {
  it('two concurrent init-credentials on 30 hosts: every certificate matches its key, one secret with one value', async () => {
    const { root, config, pw } = credsTree(hosts30());
    const [a, b] = await Promise.all([floatAsync(['init-credentials', '--config', config], pw), floatAsync(['init-credentials', '--config', config], pw)]);
    expect([a.status, b.status, a.stderr + b.stderr]).toEqual([0, 0, expect.any(String)]);
    const { certs } = checkPki(root);
    // 30 host client certificates, 28 backends x (web server + client, web-worker client), the frontends' and acme's.
    expect(certs).toBeGreaterThan(30 + 28 * 3);
    // One issued everything, the other found it all current (serialized, not interleaved).
    const issued = [a, b].map((r) => Number(/certificates: (\d+) issued/.exec(r.stdout)?.[1]));
    expect(issued.sort((x, y) => x - y)).toEqual([0, certs]);
    // One value per secret, and the inventory holds that same file.
    const secretsFile = readFileSync(join(root, 'creds/secrets.yml'), 'utf8');
    const secrets = parse(makeVaultCodec(PASSWORD).decrypt(secretsFile).toString('utf8')) as Record<string, string>;
    expect(Object.keys(secrets)).toEqual(['web_db_password']);
    expect(secretsFile).toBe(readFileSync(join(root, '.float/inventory/group_vars/all/secrets.yml'), 'utf8'));
    const generated = [a, b].map((r) => /secrets: (\d+) generated/.exec(r.stdout)?.[1]);
    expect(generated.sort()).toEqual(['0', '1']);
  }, 120_000);

  it('waits for the holder, naming it, and goes on once the holder is killed: its lock is not left behind', async () => {
    const { config, pw } = credsTree();
    const holder = await holdLock(config);
    const waiting = floatAsync(['init-credentials', '--config', config], pw);
    await new Promise((r) => setTimeout(r, 4000));
    holder.kill('SIGKILL');
    const r = await waiting;
    expect(r.stderr).toContain(`float: waiting for pid ${holder.pid} (float run site.yml, user `);
    expect(r.stderr).toContain(`, which holds ${join(dirname(config), '.float/lock')}`);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/certificates: [1-9]\d* issued/);
  }, 60_000);

  it('--no-wait fails at once naming the holder (exit 75, F3012), and writes nothing', async () => {
    const { root, config, pw } = credsTree({ 'site.yml': '- hosts: all\n  tasks: []\n' });
    const holder = await holdLock(config);
    try {
      for (const args of [['init-credentials'], ['compile'], ['run', join(root, 'site.yml')]]) {
        const r = await floatAsync([...args, '--config', config, '--no-wait'], pw);
        expect(r.stderr).toMatch(new RegExp(`is in use by pid ${holder.pid} \\(float run site\\.yml, user \\w+\\) since \\d{4}-\\d\\d-\\d\\dT`));
        expect(r.stderr).toContain('[F3012]');
        expect(r.status).toBe(75);
        expect(r.ms).toBeLessThan(15_000); // no waiting (the CLI's start-up is most of it)
      }
      expect(existsSync(join(root, 'creds'))).toBe(false);
      expect(existsSync(join(root, '.float/inventory'))).toBe(false);
    } finally {
      holder.kill('SIGKILL');
    }
  }, 90_000);

  it('mutual exclusion holds under contention: 6 processes x 15 read-increment-write rounds lose no update', async () => {
    const { root, config } = credsTree();
    const counter = join(root, 'counter');
    writeFileSync(counter, '0');
    const script = [
      `const { withConfigLock } = await import(${JSON.stringify(join(REPO_ROOT, 'src/lock.ts'))});`,
      "const { readFileSync, writeFileSync } = await import('node:fs');",
      'const [config, counter] = process.argv.slice(1);',
      'for (let i = 0; i < 15; i++) {',
      "  await withConfigLock(config, { command: 'float test', log: () => {} }, async () => {",
      "    const n = Number(readFileSync(counter, 'utf8'));",
      '    await new Promise((r) => setTimeout(r, 2));',
      '    writeFileSync(counter, String(n + 1));',
      '  });',
      '}',
    ].join('\n');
    const runs = Array.from({ length: 6 }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, config, counter], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      return new Promise<[number | null, string]>((res) => child.on('close', (code) => res([code, err])));
    });
    expect(await Promise.all(runs)).toEqual(Array.from({ length: 6 }, () => [0, '']));
    expect(readFileSync(counter, 'utf8')).toBe('90');
    expect(existsSync(join(root, '.float'))).toBe(false); // the last holder removed the lock and the empty .float
  }, 180_000);

  it('a record left by a killed holder does not block: the next command runs at once', async () => {
    const { root, config, pw } = credsTree();
    const holder = await holdLock(config);
    holder.kill('SIGKILL');
    await new Promise((r) => holder.on('exit', r));
    expect(readFileSync(join(root, '.float/lock'), 'utf8')).toContain(`"pid":${holder.pid}`); // the dead holder's record is still there
    const r = await floatAsync(['init-credentials', '--config', config, '--no-wait'], pw);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 60_000);
});

describe.skipIf(notRoot !== undefined)('rollback protection is never turned off silently', () => {
  const site = [
    '- hosts: localhost',
    '  connection: local',
    '  gather_facts: false',
    '  tasks:',
    '    - ansible.builtin.debug: {msg: "applying={{ float_config_commit | default(\'none\') }}"}',
    '',
  ].join('\n');
  // git as root in a checkout another user owns, with no safe.directory anywhere.
  const gitEnv = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', SUDO_UID: '' };
  function repo(config: string): { root: string; config: string; pw: string; commit: string } {
    const t = credsTree({ 'config.yml': config, 'site.yml': site });
    const git = (...a: string[]) => execFileSync('git', ['-C', t.root, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...a], { encoding: 'utf8', env: { ...process.env, ...gitEnv } }).trim();
    git('init', '-q');
    git('add', 'config.yml', 'hosts.yml', 'services.yml', 'passwords.yml', 'group_vars', 'site.yml');
    git('commit', '-qm', 'config');
    return { ...t, commit: git('rev-parse', 'HEAD') };
  }
  const runIt = (t: { config: string; pw: string; root: string }) => float(['run', '--config', t.config, join(t.root, 'site.yml')], t.pw, gitEnv);

  it('a repository git reads: the commit is applied with protection (control)', () => {
    const t = repo('plugin: float\ncredentials_dir: creds/\n');
    const r = runIt(t);
    expect(r.stderr).not.toContain('F3014');
    expect(r.stdout).toContain(`applying=${t.commit}`);
    expect(r.status).toBe(0);
  }, 120_000);

  it('git refusing the repository (dubious ownership) is a warning naming the reason', () => {
    const t = repo('plugin: float\ncredentials_dir: creds/\n');
    chownSync(t.root, 65534, 65534);
    chownSync(join(t.root, '.git'), 65534, 65534);
    const r = runIt(t);
    expect(r.stderr).toMatch(/warning: rollback protection is off for this run: git cannot read .*dubious ownership.* \[F3014\]/);
    expect(r.stdout).toContain('applying=none');
    expect(r.status).toBe(0);
  }, 120_000);

  it('with rollback_protection: required, the same run is refused before ansible-playbook starts', () => {
    const t = repo('plugin: float\ncredentials_dir: creds/\nrollback_protection: required\n');
    chownSync(t.root, 65534, 65534);
    chownSync(join(t.root, '.git'), 65534, 65534);
    const r = runIt(t);
    expect(r.stderr).toMatch(/error: rollback protection is required .*dubious ownership.* \[F3014\]/);
    expect(r.stdout).not.toContain('applying=');
    expect(r.status).toBe(2);
  }, 120_000);
});
