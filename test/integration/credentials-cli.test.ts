// `float init-credentials` and `float sign-host-key` end to end, on a compiled
// configuration, checked with the real tools: openssl, ansible-vault, ansible,
// ssh-keygen.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT, writeTree } from '../helpers/tree.js';

const PASSWORD = 'cli test vault password';

function tree(over: Record<string, string> = {}): string {
  return writeTree({
    'config.yml': 'plugin: float\ncredentials_dir: creds/\n',
    'group_vars/all.yml': 'domain: internal.example.com\ndomain_public: [example.com]\nnet_overlays:\n  - {name: vpn0, network: 172.16.0.0/24}\n',
    'hosts.yml': [
      'hosts:',
      '  fe1:',
      '    ips: [10.0.0.1]',
      '    public_ips: [203.0.113.1]',
      '    ip_vpn0: 172.16.0.1',
      '    groups: [frontend]',
      '    ssh_host_key_principal: "{{ inventory_hostname }}.example.com"',
      '  be1:',
      '    ips: [10.0.0.2, "2001:db8::2"]',
      '    ip_vpn0: 172.16.0.2',
      '    shard_id: s1',
      '    groups: [backend]',
      '',
    ].join('\n'),
    'services.yml': [
      `include: ${REPO_ROOT}/services.default.yml`,
      'web:',
      '  scheduling_group: backend',
      '  service_credentials:',
      '    - name: web',
      '      extra_san: [alias]',
      '      server_cert_mode: both',
      '    - name: web-worker',
      '      enable_server: false',
      '      client_cert_mode: server',
      '',
    ].join('\n'),
    'passwords.yml': [
      `- include: ${REPO_ROOT}/passwords.yml.default`,
      '- include: more-passwords.yml',
      '- name: web_db_password',
      '  length: 24',
      '',
    ].join('\n'),
    'more-passwords.yml': '- name: web_cookie_key\n  description: signs cookies\n  type: binary\n  length: 64\n',
    ...over,
  });
}

/** A password file that is a script, as the reference suggests (gpg -d): Ansible runs it, so must float. */
function passwordScript(dir: string, password = PASSWORD): string {
  const f = join(dir, 'vault-pw.sh');
  writeFileSync(f, `#!/bin/sh\necho '${password}'\n`);
  chmodSync(f, 0o700);
  return f;
}

function float(args: string[], opts: { pwFile?: string; input?: string } = {}): { status: number; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env.ANSIBLE_VAULT_PASSWORD_FILE;
  if (opts.pwFile) env.ANSIBLE_VAULT_PASSWORD_FILE = opts.pwFile;
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/float.mjs'), ...args], { encoding: 'utf8', env, input: opts.input ?? '' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

function walk(d: string): string[] {
  if (!existsSync(d)) return [];
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
}

/** Every file under a directory with its content and mtime (symbolic links: their target). */
function snapshot(d: string): Record<string, string> {
  const state = (f: string) => (lstatSync(f).isSymbolicLink() ? `-> ${readlinkSync(f)}` : `${statSync(f).mtimeMs} ${readFileSync(f, 'utf8')}`);
  return Object.fromEntries(walk(d).map((f) => [relative(d, f), state(f)]));
}

/** An expression as Ansible templates it for a host of the compiled inventory. */
function ansibleEval(inventory: string, host: string, pwFile: string, expr: string): unknown {
  const out = sh('ansible', ['-i', inventory, host, '-c', 'local', '-m', 'debug', '-a', `msg={{ (${expr}) | to_json }}`, '-o', '--vault-password-file', pwFile]);
  return JSON.parse(JSON.parse(out.slice(out.indexOf('{'))).msg as string);
}

function san(certFile: string): string {
  return sh('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', certFile]).split('\n')[1].trim();
}

function eku(certFile: string): string {
  return sh('openssl', ['x509', '-noout', '-ext', 'extendedKeyUsage', '-in', certFile]).split('\n')[1].trim();
}

describe('float init-credentials', () => {
  const root = tree();
  const config = join(root, 'config.yml');
  const creds = join(root, 'creds');
  const x509 = join(creds, 'x509');
  const pw = passwordScript(root);
  const certs = () => walk(x509).filter((f) => f.endsWith('/cert.pem') && !f.endsWith('x509/ca.pem'));

  it('creates the CA, the certificates, the SSH CA and the secrets', () => {
    const r = float(['init-credentials', '--config', config], { pwFile: pw });
    // Only warnings about attributes no role acts on yet (F2030), if any.
    expect(r.stderr.split('\n').filter((l) => l && !l.endsWith(' [F2030]'))).toEqual([]);
    expect(r.status).toBe(0);
    // fe1: acme server (the built-in ACME service), frontend client, host client, log client;
    // be1: web server+client, web-worker client, host client, log client, log-collector server,
    // and the clients of the built-in prometheus and prober services (float's monitoring).
    expect(r.stdout).toContain('certificates: 12 issued, 0 unchanged');
    expect(r.stdout).toContain('secrets: 2 generated (web_cookie_key, web_db_password)');
    expect(certs().map((f) => relative(x509, f)).sort()).toEqual([
      'be1/host/client/cert.pem',
      'be1/log-client/client/cert.pem',
      'be1/log-collector/server/cert.pem',
      'be1/prober/client/cert.pem',
      'be1/prometheus/client/cert.pem',
      'be1/web-worker/client/cert.pem',
      'be1/web/client/cert.pem',
      'be1/web/server/cert.pem',
      'fe1/acme/server/cert.pem',
      'fe1/frontend/client/cert.pem',
      'fe1/host/client/cert.pem',
      'fe1/log-client/client/cert.pem',
    ]);
    expect(readFileSync(join(creds, 'ssh/key.pub'), 'utf8')).toMatch(/^ssh-ed25519 /);
    for (const f of [join(creds, 'secrets.yml'), join(creds, 'ssh/key'), join(x509, 'ca_private_key.pem'), join(x509, 'be1/private_keys.yml')]) {
      expect(readFileSync(f, 'utf8').startsWith('$ANSIBLE_VAULT;1.1;AES256\n')).toBe(true);
      expect(statSync(f).mode & 0o777).toBe(0o600);
    }
    for (const f of walk(creds)) expect(readFileSync(f, 'utf8')).not.toMatch(/PRIVATE KEY|web_db_password/);
  });

  it('openssl verifies every certificate against the CA', () => {
    const out = sh('openssl', ['verify', '-x509_strict', '-CAfile', join(x509, 'ca.pem'), ...certs()]);
    expect(out.trim().split('\n')).toEqual(certs().map((f) => `${f}: OK`));
  });

  it('server certificates carry every name and address the reference lists', () => {
    const f = join(x509, 'be1/web/server/cert.pem');
    expect(sh('openssl', ['x509', '-noout', '-subject', '-in', f]).trim()).toBe('subject=CN = web.internal.example.com');
    expect(san(f)).toBe(
      [
        'DNS:web.internal.example.com', // service.domain
        'DNS:web', // service
        'DNS:be1.web.internal.example.com', // host.service.domain
        'DNS:be1.web', // host.service
        'DNS:s1.web.internal.example.com', // shard.service.domain
        'DNS:s1.web', // shard.service
        'DNS:be1.internal.example.com', // fqdn
        'DNS:localhost',
        'DNS:alias.internal.example.com', // extra_san, domain appended
        'IP Address:10.0.0.2', // the host's addresses
        'IP Address:2001:DB8:0:0:0:0:0:2',
        'IP Address:172.16.0.2', // overlay
        'IP Address:127.0.0.1',
        'IP Address:0:0:0:0:0:0:0:1',
      ].join(', '),
    );
    // server_cert_mode: both
    expect(eku(f)).toBe('TLS Web Server Authentication, TLS Web Client Authentication');
  });

  it('client certificates are named <cred> and <cred>.<domain>, with the EKU of client_cert_mode', () => {
    const web = join(x509, 'be1/web/client/cert.pem');
    expect(sh('openssl', ['x509', '-noout', '-subject', '-in', web]).trim()).toBe('subject=CN = web');
    expect(san(web)).toBe('DNS:web, DNS:web.internal.example.com');
    expect(eku(web)).toBe('TLS Web Client Authentication');
    const worker = join(x509, 'be1/web-worker/client/cert.pem');
    expect(san(worker)).toBe('DNS:web-worker, DNS:web-worker.internal.example.com');
    expect(eku(worker)).toBe('TLS Web Server Authentication'); // client_cert_mode: server
  });

  it('Ansible sees the secrets (group_vars/all), the private keys (host_vars) and the SSH principal', () => {
    const inventory = join(root, '.float/inventory');
    expect(readFileSync(join(inventory, 'group_vars/all/secrets.yml'), 'utf8')).toBe(readFileSync(join(creds, 'secrets.yml'), 'utf8'));
    const secrets = parse(sh('ansible-vault', ['view', '--vault-password-file', pw, join(creds, 'secrets.yml')])) as Record<string, string>;
    expect(Object.keys(secrets).sort()).toEqual(['web_cookie_key', 'web_db_password']);
    expect(secrets.web_db_password).toMatch(/^[A-Za-z0-9+/]{24}$/);
    expect(secrets.web_cookie_key).toMatch(/^[A-Za-z0-9+/]{64}$/);
    const seen = ansibleEval(
      inventory,
      'be1',
      pw,
      "{'pw': web_db_password, 'key': float_host_private_keys['web/server'], 'principal': ssh_host_key_principal}",
    ) as { pw: string; key: string; principal: string };
    expect(seen.pw).toBe(secrets.web_db_password);
    expect(sh('openssl', ['pkey', '-pubout'], seen.key)).toBe(sh('openssl', ['x509', '-noout', '-pubkey', '-in', join(x509, 'be1/web/server/cert.pem')]));
    expect(seen.principal).toBe('be1.internal.example.com'); // the default, {{ inventory_hostname }}.{{ domain }}
    expect(ansibleEval(inventory, 'fe1', pw, 'ssh_host_key_principal')).toBe('fe1.example.com'); // set per host
  });

  it('a second run changes nothing', () => {
    const before = snapshot(creds);
    const r = float(['init-credentials', '--config', config], { pwFile: pw });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('certificates: 0 issued, 12 unchanged');
    expect(r.stdout).toContain('secrets: 0 generated');
    expect(snapshot(creds)).toEqual(before);
  });

  it('a secret removed from passwords.yml is kept and reported; a changed cert mode re-issues that certificate only', () => {
    const secretsBefore = sh('ansible-vault', ['view', '--vault-password-file', pw, join(creds, 'secrets.yml')]);
    const webServer = readFileSync(join(x509, 'be1/web/server/cert.pem'), 'utf8');
    writeFileSync(join(root, 'passwords.yml'), `- include: ${REPO_ROOT}/passwords.yml.default\n- name: web_db_password\n  length: 24\n`);
    const services = readFileSync(join(root, 'services.yml'), 'utf8');
    writeFileSync(join(root, 'services.yml'), services.replace('client_cert_mode: server', 'client_cert_mode: both'));
    const r = float(['init-credentials', '--config', config], { pwFile: pw });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('certificates: 1 issued, 11 unchanged');
    expect(r.stdout).toContain('kept 1 secrets no longer in passwords.yml: web_cookie_key');
    expect(sh('ansible-vault', ['view', '--vault-password-file', pw, join(creds, 'secrets.yml')])).toBe(secretsBefore);
    expect(eku(join(x509, 'be1/web-worker/client/cert.pem'))).toBe('TLS Web Server Authentication, TLS Web Client Authentication');
    expect(readFileSync(join(x509, 'be1/web/server/cert.pem'), 'utf8')).toBe(webServer);
  });

  it('a wrong vault password is an error that names the file, and nothing changes', () => {
    const before = snapshot(root);
    const r = float(['init-credentials', '--config', config], { pwFile: passwordScript(mkdtempSync(join(tmpdir(), 'float-pw-')), 'wrong') });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ca_private_key\.pem: vault: HMAC mismatch: wrong vault password/);
    expect(snapshot(root)).toEqual(before);
  });
});

describe('float init-credentials without a usable password', () => {
  it('no password: a clear error, and nothing is written', () => {
    const root = tree();
    const r = float(['init-credentials', '--config', join(root, 'config.yml')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no vault password: set ANSIBLE_VAULT_PASSWORD_FILE/);
    expect(existsSync(join(root, 'creds'))).toBe(false);
    expect(existsSync(join(root, '.float'))).toBe(false);
  });

  it('a password that does not open the existing CA does not create secrets.yml with it', () => {
    const root = tree();
    const config = join(root, 'config.yml');
    expect(float(['init-credentials', '--config', config], { pwFile: passwordScript(root) }).status).toBe(0);
    rmSync(join(root, 'creds/secrets.yml'));
    const r = float(['init-credentials', '--config', config], { pwFile: passwordScript(root, 'another password') });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/HMAC mismatch/);
    expect(existsSync(join(root, 'creds/secrets.yml'))).toBe(false);
  });
});

describe('float sign-host-key', () => {
  const root = tree();
  const config = join(root, 'config.yml');
  const pw = passwordScript(root);
  const hostKey = join(root, 'ssh_host_ed25519_key');
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const publicKey = readFileSync(`${hostKey}.pub`, 'utf8');
  const principals = ['be1.internal.example.com', 'be1'];
  const sign = (input: object, names: string[], pwFile?: string) =>
    float(['sign-host-key', '--config', config, '--host', 'be1', ...names.flatMap((n) => ['--principal', n])], { pwFile, input: JSON.stringify(input) });
  const show = (cert: string) => {
    const f = join(root, 'ssh_host_ed25519_key-cert.pub');
    writeFileSync(f, cert);
    return sh('ssh-keygen', ['-L', '-f', f]);
  };
  let cert = '';

  it('signs the host key: ssh-keygen -L shows the principals, the CA and a year of validity', () => {
    expect(float(['init-credentials', '--config', config], { pwFile: pw }).status).toBe(0);
    const r = sign({ public_key: publicKey, certificate: '' }, principals, pw);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    cert = r.stdout;
    const out = show(cert);
    expect(out).toContain('ssh-ed25519-cert-v01@openssh.com host certificate');
    expect(out).toContain('Key ID: "be1"');
    expect(out).toMatch(/Principals: \n\s+be1\.internal\.example\.com\n\s+be1\n\s+Critical/);
    const caFp = sh('ssh-keygen', ['-l', '-f', join(root, 'creds/ssh/key.pub')]).split(' ')[1];
    expect(out).toContain(`Signing CA: ED25519 ${caFp}`);
    const [, from, to] = /Valid: from (\S+) to (\S+)/.exec(out)!;
    expect(new Date(to).getTime() - new Date(from).getTime()).toBe(365 * 86_400_000 + 5 * 60_000);
  });

  it('keeps a certificate that is still good, without needing the vault password', () => {
    const r = sign({ public_key: publicKey, certificate: cert }, [...principals].reverse());
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(cert);
  });

  it('re-signs when the principals change', () => {
    const r = sign({ public_key: publicKey, certificate: cert }, ['be1.example.com'], pw);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toBe(cert);
    expect(show(r.stdout)).toMatch(/Principals: \n\s+be1\.example\.com\n\s+Critical/);
    // ... and a certificate that needs re-signing with no password is the usual clear error.
    const again = sign({ public_key: publicKey, certificate: cert }, ['other.example.com']);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/no vault password/);
  });

  it('signs all of a host\'s keys in one call, each certificate with its own serial; a good one is kept as it is', () => {
    const ecdsaKey = join(root, 'ssh_host_ecdsa_key');
    sh('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', ecdsaKey]);
    const ecdsaPub = readFileSync(`${ecdsaKey}.pub`, 'utf8');
    const r = sign({ keys: [{ public_key: publicKey, certificate: '' }, { public_key: ecdsaPub, certificate: '' }] }, principals, pw);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const certs = (JSON.parse(r.stdout) as { certificates: string[] }).certificates;
    expect(certs.map((c) => c.split(' ')[0])).toEqual(['ssh-ed25519-cert-v01@openssh.com', 'ecdsa-sha2-nistp256-cert-v01@openssh.com']);
    const serials = certs.map((c) => /Serial: (\d+)/.exec(show(c))![1]);
    expect(serials[0]).not.toBe('0');
    expect(serials[1]).not.toBe('0');
    expect(serials[0]).not.toBe(serials[1]);
    // The second call, with the certificates just issued, keeps them (no password needed) ...
    const kept = sign({ keys: [{ public_key: publicKey, certificate: certs[0] }, { public_key: ecdsaPub, certificate: certs[1] }] }, principals);
    expect(kept.status, kept.stderr).toBe(0);
    expect(JSON.parse(kept.stdout)).toEqual({ certificates: certs });
    // ... and re-signs only the key whose certificate is not its own.
    const mixed = sign({ keys: [{ public_key: publicKey, certificate: certs[0] }, { public_key: ecdsaPub, certificate: certs[0] }] }, principals, pw);
    const got = (JSON.parse(mixed.stdout) as { certificates: string[] }).certificates;
    expect(got[0]).toBe(certs[0]);
    expect(got[1]).not.toBe(certs[1]);
    expect(show(got[1])).toContain('ecdsa-sha2-nistp256-cert-v01@openssh.com host certificate');
  });

  it('input that is not what it expects is a user error with its code, not an internal error', () => {
    const bad = (input: string) => float(['sign-host-key', '--config', config, '--host', 'be1', '--principal', 'be1'], { pwFile: pw, input });
    for (const input of ['not json', '{"keys": []}', '{"keys": [{"certificate": ""}]}', '[1]']) {
      const r = bad(input);
      expect(r.status, input).toBe(2);
      expect(r.stderr, input).toMatch(/sign-host-key: .*\[F2060\]/);
      expect(r.stderr, input).not.toMatch(/internal error|at .*\.ts:/);
    }
  });
});
