// Credentials checked with the real tools: ansible-vault, openssl, ssh-keygen.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FloatUserError } from '../../src/config/diagnostics.js';
import { ensureCertificates, hostKeysPath } from '../../src/credentials/pki-store.js';
import { generateSecret, syncSecretsFile } from '../../src/credentials/secrets.js';
import { ensureSshCa, inspectCertificate, signHostKey, sshCaPaths } from '../../src/credentials/ssh-ca.js';
import type { CertRequest } from '../../src/credentials/types.js';
import { loadVaultPassword } from '../../src/credentials/vault-password.js';
import { makeVaultCodec, vaultDecrypt, vaultEncrypt } from '../../src/credentials/vault.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'float-cred-'));
const PASSWORD = 'correct horse battery staple';
const codec = makeVaultCodec(PASSWORD);

function passwordFile(): string {
  const f = join(tmp(), 'pw');
  writeFileSync(f, PASSWORD + '\n');
  return f;
}

function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

describe('Ansible Vault codec', () => {
  const pw = passwordFile();
  for (const [label, text] of [
    ['empty', ''],
    ['15 bytes', 'x'.repeat(15)],
    ['16 bytes', 'y'.repeat(16)],
    ['17 bytes', 'z'.repeat(17)],
    ['unicode', 'clé: ünïcødé ✓\n'],
    ['100 KB', 'a1b2c3d4\n'.repeat(11_378)],
  ] as const) {
    it(`ansible-vault decrypts what we write (${label})`, () => {
      const f = join(tmp(), 'v.yml');
      writeFileSync(f, vaultEncrypt(text, PASSWORD));
      // `decrypt --output -` gives the exact bytes (`view` adds a newline for display).
      expect(sh('ansible-vault', ['decrypt', '--vault-password-file', pw, '--output', '-', f])).toBe(text);
    });
  }
  it('we decrypt what ansible-vault encrypt writes', () => {
    const f = join(tmp(), 'plain.yml');
    writeFileSync(f, 'secret: 42\nother: "x y"\n');
    sh('ansible-vault', ['encrypt', '--vault-password-file', pw, f]);
    expect(readFileSync(f, 'utf8').startsWith('$ANSIBLE_VAULT;1.1;AES256\n')).toBe(true);
    expect(vaultDecrypt(readFileSync(f, 'utf8'), PASSWORD).toString()).toBe('secret: 42\nother: "x y"\n');
  });
  it('a wrong password or a modified file is a clear error', () => {
    const v = vaultEncrypt('data', PASSWORD);
    expect(() => vaultDecrypt(v, 'wrong')).toThrow(/wrong vault password/);
    const lines = v.split('\n');
    lines[2] = lines[2].replace(/^./, (c) => (c === '3' ? '4' : '3'));
    expect(() => vaultDecrypt(lines.join('\n'), PASSWORD)).toThrow(FloatUserError);
    expect(() => vaultDecrypt('hello', PASSWORD)).toThrow(/not an Ansible Vault/);
  });
});

describe('vault password', () => {
  it('reads a file, trimming the newline', async () => {
    expect(await loadVaultPassword({ env: { ANSIBLE_VAULT_PASSWORD_FILE: passwordFile() } })).toBe(PASSWORD);
  });
  it('runs an executable file and uses its output', async () => {
    const f = join(tmp(), 'pw.sh');
    writeFileSync(f, '#!/bin/sh\necho from-script\n');
    chmodSync(f, 0o755);
    expect(await loadVaultPassword({ env: { ANSIBLE_VAULT_PASSWORD_FILE: f } })).toBe('from-script');
  });
  it('falls back to config.yml vault_password_file', async () => {
    expect(await loadVaultPassword({ env: {}, fallbackFile: passwordFile() })).toBe(PASSWORD);
  });
  it('missing or empty is an error saying how to fix it', async () => {
    await expect(loadVaultPassword({ env: {} })).rejects.toThrow(/ANSIBLE_VAULT_PASSWORD_FILE/);
    await expect(loadVaultPassword({ env: { ANSIBLE_VAULT_PASSWORD_FILE: '/nonexistent/pw' } })).rejects.toThrow(/no such file/);
    const empty = join(tmp(), 'empty');
    writeFileSync(empty, '\n');
    await expect(loadVaultPassword({ env: { ANSIBLE_VAULT_PASSWORD_FILE: empty } })).rejects.toThrow(/is empty/);
  });
});

describe('application secrets', () => {
  it('generates the right length in the base64 alphabet', () => {
    for (const length of [1, 8, 31, 32, 64]) {
      expect(generateSecret({ type: 'password', length })).toMatch(new RegExp(`^[A-Za-z0-9_-]{${length}}$`));
      expect(generateSecret({ type: 'binary', length })).toMatch(new RegExp(`^[A-Za-z0-9+/]{${length}}$`));
    }
    expect(generateSecret({ type: 'password', length: 32 })).not.toBe(generateSecret({ type: 'password', length: 32 }));
  });
  it('keeps existing values, reports orphans, rewrites only on change, mode 0600', async () => {
    const path = join(tmp(), 'secrets.yml');
    const specs = [
      { name: 'a', type: 'password' as const, length: 20 },
      { name: 'b', type: 'binary' as const, length: 44 },
    ];
    const first = await syncSecretsFile(path, specs, codec);
    expect(first.generated).toEqual(['a', 'b']);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const bytes = readFileSync(path, 'utf8');
    const mtime = statSync(path).mtimeMs;
    const second = await syncSecretsFile(path, specs, codec);
    expect(second.generated).toEqual([]);
    expect(second.secrets).toEqual(first.secrets);
    expect(readFileSync(path, 'utf8')).toBe(bytes);
    expect(statSync(path).mtimeMs).toBe(mtime);
    const third = await syncSecretsFile(path, [specs[1], { name: 'c', type: 'password', length: 8 }], codec);
    expect(third.generated).toEqual(['c']);
    expect(third.orphaned).toEqual(['a']);
    expect(third.secrets.a).toBe(first.secrets.a);
    const viewed = parse(sh('ansible-vault', ['view', '--vault-password-file', passwordFile(), path]));
    expect(viewed).toEqual({ a: first.secrets.a, b: first.secrets.b, c: third.secrets.c });
  });
});

function req(id: string, kind: 'server' | 'client', mode: CertRequest['mode'], dns: string[], ips: string[] = []): CertRequest {
  return { id, kind, commonName: dns[0], dnsNames: dns, ipAddresses: ips, mode };
}

describe('internal PKI', () => {
  const dir = tmp();
  const requests = [
    req('h1/web/server', 'server', 'server', ['web.example.internal', 'web', 'h1.web.example.internal', 'localhost'], ['10.0.0.1', '::1']),
    req('h1/web/client', 'client', 'client', ['web', 'web.example.internal']),
    req('h2/db/server', 'server', 'both', ['db.example.internal', 'db'], ['10.0.0.2']),
  ];
  const x509 = join(dir, 'x509');
  const now = new Date();

  it('issues certificates openssl verifies against the CA', async () => {
    const r = await ensureCertificates(dir, requests, codec, now);
    expect(r.issued).toEqual(requests.map((q) => q.id));
    const out = sh('openssl', ['verify', '-CAfile', join(x509, 'ca.pem'), ...requests.map((q) => join(x509, q.id, 'cert.pem'))]);
    expect(out.trim().split('\n')).toEqual(requests.map((q) => `${join(x509, q.id, 'cert.pem')}: OK`));
  });

  it('certificates carry the SANs and extended key usages asked for', () => {
    const text = (id: string) => sh('openssl', ['x509', '-noout', '-text', '-in', join(x509, id, 'cert.pem')]);
    const server = text('h1/web/server');
    expect(server).toContain('DNS:web.example.internal, DNS:web, DNS:h1.web.example.internal, DNS:localhost, IP Address:10.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(server).toMatch(/Extended Key Usage: *\n\s+TLS Web Server Authentication\n/);
    expect(text('h1/web/client')).toMatch(/Extended Key Usage: *\n\s+TLS Web Client Authentication\n/);
    expect(text('h2/db/server')).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(sh('openssl', ['x509', '-noout', '-subject', '-in', join(x509, 'h1/web/client/cert.pem')]).trim()).toBe('subject=CN = web');
  });

  it('private keys are vault-encrypted at rest, 0600, and match their certificates', () => {
    const keysFile = hostKeysPath(dir, 'h1');
    const raw = readFileSync(keysFile, 'utf8');
    expect(raw.startsWith('$ANSIBLE_VAULT;1.1;AES256\n')).toBe(true);
    expect(statSync(keysFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(x509, 'ca_private_key.pem'), 'utf8').startsWith('$ANSIBLE_VAULT;1.1;AES256\n')).toBe(true);
    const keys = (parse(sh('ansible-vault', ['view', '--vault-password-file', passwordFile(), keysFile])) as { float_host_private_keys: Record<string, string> })
      .float_host_private_keys;
    expect(Object.keys(keys).sort()).toEqual(['web/client', 'web/server']);
    const fromKey = sh('openssl', ['pkey', '-pubout'], keys['web/server']);
    const fromCert = sh('openssl', ['x509', '-noout', '-pubkey', '-in', join(x509, 'h1/web/server/cert.pem')]);
    expect(fromKey).toBe(fromCert);
  });

  it('is idempotent: a second run issues nothing and rewrites no file', async () => {
    const files = [join(x509, 'h1/web/server/cert.pem'), hostKeysPath(dir, 'h1'), join(x509, 'index.json')];
    const before = files.map((f) => statSync(f).mtimeMs);
    const r = await ensureCertificates(dir, requests, codec, now);
    expect(r.issued).toEqual([]);
    expect(r.kept).toHaveLength(3);
    expect(files.map((f) => statSync(f).mtimeMs)).toEqual(before);
  });

  it('a changed SAN re-issues only that certificate; near expiry re-issues; removed ones are reported, kept', async () => {
    const changed = [requests[0], requests[1], { ...requests[2], ipAddresses: ['10.0.0.3'] }];
    expect((await ensureCertificates(dir, changed, codec, now)).issued).toEqual(['h2/db/server']);
    const later = new Date(now.getTime() + 340 * 86_400_000);
    expect((await ensureCertificates(dir, changed, codec, later)).issued.sort()).toEqual(changed.map((q) => q.id).sort());
    const r = await ensureCertificates(dir, changed.slice(0, 2), codec, later);
    expect(r.issued).toEqual([]);
    expect(r.stale).toEqual(['h2/db/server']);
  });
});

describe('SSH CA', () => {
  it('creates an ed25519 CA once, private key vault-encrypted', async () => {
    const dir = tmp();
    const pub = await ensureSshCa(dir, codec);
    expect(pub).toMatch(/^ssh-ed25519 /);
    expect(await ensureSshCa(dir, codec)).toBe(pub);
    expect(readFileSync(sshCaPaths(dir).privateKey, 'utf8').startsWith('$ANSIBLE_VAULT;1.1;AES256\n')).toBe(true);
  });
  it('signs host keys: ssh-keygen -L shows a host certificate with the principals', async () => {
    const dir = tmp();
    const k = join(tmp(), 'hostkey');
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k]);
    const cert = await signHostKey(dir, codec, readFileSync(`${k}.pub`, 'utf8'), { identity: 'host1', principals: ['host1.example.internal', 'host1'] });
    const f = join(tmp(), 'hostkey-cert.pub');
    writeFileSync(f, cert + '\n');
    const out = sh('ssh-keygen', ['-L', '-f', f]);
    expect(out).toContain('ssh-ed25519-cert-v01@openssh.com host certificate');
    expect(out).toMatch(/Principals: \n\s+host1.example.internal\n\s+host1\n/);
    const info = inspectCertificate(cert);
    expect(info.principals).toEqual(['host1.example.internal', 'host1']);
    expect(info.validBefore!.getTime()).toBeGreaterThan(Date.now() + 360 * 86_400_000);
  });
});
