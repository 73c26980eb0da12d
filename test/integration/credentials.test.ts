// Credentials checked with the real tools: ansible-vault, openssl, ssh-keygen.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FloatUserError } from '../../src/config/diagnostics.js';
import { formatCredentialsReport } from '../../src/credentials/index.js';
import { ensureCertificates, hostKeysPath } from '../../src/credentials/pki-store.js';
import { generateSecret, syncSecretsFile } from '../../src/credentials/secrets.js';
import { caFingerprint, ensureSshCa, inspectCertificate, signHostKey, sshCaPaths } from '../../src/credentials/ssh-ca.js';
import { parseCertificate } from '../../src/credentials/ssh-cert.js';
import type { CertRequest } from '../../src/credentials/types.js';
import { loadVaultPassword } from '../../src/credentials/vault-password.js';
import { makeVaultCodec, vaultDecrypt, vaultEncrypt } from '../../src/credentials/vault.js';
import { newKeyPair, pkcs8Pem, signingKey } from '../../src/credentials/x509.js';

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
  it('we decrypt what ansible-vault writes with a vault id (format 1.2), and inline-vault indentation', () => {
    const f = join(tmp(), 'plain.yml');
    writeFileSync(f, 'labelled: true\n');
    sh('ansible-vault', ['encrypt', '--vault-id', `prod@${pw}`, f]);
    const text = readFileSync(f, 'utf8');
    expect(text.startsWith('$ANSIBLE_VAULT;1.2;AES256;prod\n')).toBe(true);
    expect(vaultDecrypt(text, PASSWORD).toString()).toBe('labelled: true\n');
    const indented = vaultEncrypt('x', PASSWORD).trimEnd().split('\n').map((l) => `    ${l}`).join('\n');
    expect(vaultDecrypt(indented.trimStart(), PASSWORD).toString()).toBe('x');
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
  // Whatever the file looks like, float must derive the password ansible-vault derives from it.
  const agreesWithAnsible = async (file: string) => {
    const pw = await loadVaultPassword({ env: { ANSIBLE_VAULT_PASSWORD_FILE: file } });
    const f = join(tmp(), 'v.yml');
    writeFileSync(f, vaultEncrypt('ok: 1\n', pw));
    expect(sh('ansible-vault', ['decrypt', '--vault-password-file', file, '--output', '-', f])).toBe('ok: 1\n');
    return pw;
  };
  it('reads a file as Ansible does: whitespace stripped at both ends', async () => {
    expect(await agreesWithAnsible(passwordFile())).toBe(PASSWORD);
    const f = join(tmp(), 'pw');
    writeFileSync(f, '\n  spaced pw \t\r\n\n');
    expect(await agreesWithAnsible(f)).toBe('spaced pw');
  });
  it('runs an executable file (any execute bit) and uses its output, CR/LF stripped, spaces kept', async () => {
    const f = join(tmp(), 'pw.sh');
    writeFileSync(f, '#!/bin/sh\nprintf \' from script \\r\\n\'\n');
    chmodSync(f, 0o701);
    expect(await agreesWithAnsible(f)).toBe(' from script ');
  });
  it('a failing password script is a clear error', async () => {
    const f = join(tmp(), 'pw.sh');
    writeFileSync(f, '#!/bin/sh\nexit 3\n');
    chmodSync(f, 0o755);
    await expect(loadVaultPassword({ env: { ANSIBLE_VAULT_PASSWORD_FILE: f } })).rejects.toThrow(/exited with status 3.*ANSIBLE_VAULT_PASSWORD_FILE/);
    writeFileSync(f, '#!/bin/sh\necho\n');
    await expect(loadVaultPassword({ env: { ANSIBLE_VAULT_PASSWORD_FILE: f } })).rejects.toThrow(/printed no password/);
  });
  it('falls back to config.yml vault_password_file', async () => {
    expect(await loadVaultPassword({ env: {}, fallbackFile: passwordFile() })).toBe(PASSWORD);
  });
  it('missing or empty is an error saying how to fix it', async () => {
    await expect(loadVaultPassword({ env: {} })).rejects.toThrow(/ANSIBLE_VAULT_PASSWORD_FILE/);
    await expect(loadVaultPassword({ env: { ANSIBLE_VAULT_PASSWORD_FILE: '/nonexistent/pw' } })).rejects.toThrow(/no such file/);
    const empty = join(tmp(), 'empty');
    writeFileSync(empty, ' \n');
    await expect(loadVaultPassword({ env: { ANSIBLE_VAULT_PASSWORD_FILE: empty } })).rejects.toThrow(/is empty/);
  });
});

const BASE64 = (n: number) => new RegExp(`^[A-Za-z0-9+/]{${n}}$`);

describe('application secrets', () => {
  it('generates the right length in the base64 alphabet, for both types', () => {
    for (const length of [1, 2, 3, 8, 31, 32, 44, 64, 4096]) {
      expect(generateSecret({ type: 'password', length })).toMatch(BASE64(length));
      expect(generateSecret({ type: 'binary', length })).toMatch(BASE64(length));
    }
    expect(generateSecret({ type: 'password', length: 32 })).not.toBe(generateSecret({ type: 'password', length: 32 }));
  });
  it('draws every base64 digit about equally often (CSPRNG, whole 6-bit digits)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 1000; i++) for (const c of generateSecret({ type: 'password', length: 64 })) counts.set(c, (counts.get(c) ?? 0) + 1);
    // 64,000 draws over 64 digits: 1,000 expected each; a biased digit would be far off.
    expect(counts.size).toBe(64);
    for (const n of counts.values()) expect(Math.abs(n - 1000)).toBeLessThan(200);
  });
  it('keeps existing values, reports orphans, rewrites only on change, mode 0600', async () => {
    const path = join(tmp(), 'secrets.yml');
    const specs = [
      { name: 'a', type: 'password' as const, length: 20 },
      { name: 'b', type: 'binary' as const, length: 44 },
    ];
    const first = await syncSecretsFile(path, specs, codec);
    expect(first.generated).toEqual(['a', 'b']);
    expect(first.secrets.a).toMatch(BASE64(20));
    expect(first.secrets.b).toMatch(BASE64(44));
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
  it('a name listed twice is one secret', async () => {
    const path = join(tmp(), 'secrets.yml');
    const r = await syncSecretsFile(path, [{ name: 'x', type: 'password', length: 10 }, { name: 'x', type: 'binary', length: 50 }], codec);
    expect(r.generated).toEqual(['x']);
    expect(r.secrets.x).toMatch(BASE64(10));
  });
  it('values and comments an operator put in secrets.yml (ansible-vault edit) are kept byte for byte', async () => {
    const path = join(tmp(), 'secrets.yml');
    const original = '# hand-written\nmanual_list: [1, 2]\nmanual_date: 2024-01-02\nmanual_flag: yes\nkept_pw: "0123"\n';
    writeFileSync(path, original);
    sh('ansible-vault', ['encrypt', '--vault-password-file', passwordFile(), path]);
    const r = await syncSecretsFile(path, [{ name: 'kept_pw', type: 'password', length: 32 }, { name: 'new_pw', type: 'password', length: 12 }], codec);
    expect(r.generated).toEqual(['new_pw']);
    expect(r.kept).toEqual(['kept_pw']);
    expect(r.orphaned).toEqual(['manual_date', 'manual_flag', 'manual_list']);
    const text = sh('ansible-vault', ['decrypt', '--vault-password-file', passwordFile(), '--output', '-', path]);
    expect(text.startsWith(original)).toBe(true);
    expect(parse(text, { version: '1.1' }).new_pw).toBe(r.secrets.new_pw);
    // A null value is regenerated in place; the rest of the file is untouched.
    writeFileSync(path, vaultEncrypt('# keep me\nempty_one:\nother: 1\n', PASSWORD));
    const again = await syncSecretsFile(path, [{ name: 'empty_one', type: 'password', length: 16 }], codec);
    expect(again.generated).toEqual(['empty_one']);
    const after = vaultDecrypt(readFileSync(path, 'utf8'), PASSWORD).toString();
    expect(after).toContain('# keep me');
    expect(parse(after)).toEqual({ empty_one: again.secrets.empty_one, other: 1 });
  });
});

function req(id: string, kind: 'server' | 'client', mode: CertRequest['mode'], dns: string[], ips: string[] = []): CertRequest {
  return { id, kind, commonName: dns[0], dnsNames: dns, ipAddresses: ips, mode };
}

describe('key encodings', () => {
  it('generated keys are P-256, their PEM is what OpenSSL writes, and the public key belongs to the private key', () => {
    for (let i = 0; i < 200; i++) {
      const k = newKeyPair();
      const loaded = createPrivateKey(pkcs8Pem(k.pkcs8));
      expect(loaded.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
      expect(pkcs8Pem(k.pkcs8)).toBe(loaded.export({ type: 'pkcs8', format: 'pem' }));
      expect(signingKey(k.pkcs8).spki.equals(k.spki)).toBe(true);
    }
    const k = newKeyPair();
    expect(sh('openssl', ['pkey', '-noout', '-check'], pkcs8Pem(k.pkcs8))).toContain('Key is valid');
  });
});

describe('internal PKI', () => {
  const dir = tmp();
  const requests = [
    req('h1/web/server', 'server', 'server', ['web.example.internal', 'web', 'h1.web.example.internal', 'localhost'], ['10.0.0.1', '::1']),
    req('h1/web/client', 'client', 'client', ['web', 'web.example.internal']),
    req('h2/db/server', 'server', 'both', ['db.example.internal', 'db'], ['10.0.0.2']),
    req('h2/db/client', 'client', 'server', ['db', 'db.example.internal']),
  ];
  const x509 = join(dir, 'x509');
  const now = new Date();
  const DAY = 86_400_000;
  const text = (id: string) => sh('openssl', ['x509', '-noout', '-text', '-in', join(x509, id, 'cert.pem')]);
  const verify = (ids: string[]) =>
    sh('openssl', ['verify', '-x509_strict', '-purpose', 'any', '-CAfile', join(x509, 'ca.pem'), ...ids.map((id) => join(x509, id, 'cert.pem'))]);
  const mtimes = () => Object.fromEntries(walk(dir).map((f) => [f, statSync(f).mtimeMs]));

  it('issues certificates openssl verifies against the CA (-x509_strict)', async () => {
    const r = await ensureCertificates(dir, requests, codec, now);
    expect(r.issued).toEqual(requests.map((q) => q.id));
    expect(verify(requests.map((q) => q.id)).trim().split('\n')).toEqual(requests.map((q) => `${join(x509, q.id, 'cert.pem')}: OK`));
  });

  it('the CA is a CA, created once, its key vault-encrypted', async () => {
    const ca = sh('openssl', ['x509', '-noout', '-text', '-in', join(x509, 'ca.pem')]);
    expect(ca).toMatch(/Basic Constraints: critical\n\s+CA:TRUE/);
    expect(ca).toMatch(/Key Usage: critical\n\s+Digital Signature, Certificate Sign, CRL Sign/);
    expect(ca).toContain('Public Key Algorithm: id-ecPublicKey');
    expect(ca).toContain('NIST CURVE: P-256');
    const caKey = readFileSync(join(x509, 'ca_private_key.pem'), 'utf8');
    expect(caKey.startsWith('$ANSIBLE_VAULT;1.1;AES256\n')).toBe(true);
    expect(statSync(join(x509, 'ca_private_key.pem')).mode & 0o777).toBe(0o600);
    const pem = sh('ansible-vault', ['decrypt', '--vault-password-file', passwordFile(), '--output', '-', join(x509, 'ca_private_key.pem')]);
    expect(sh('openssl', ['pkey', '-pubout'], pem)).toBe(sh('openssl', ['x509', '-noout', '-pubkey', '-in', join(x509, 'ca.pem')]));
  });

  it('certificates carry the SANs, names, key usage and extended key usages asked for', () => {
    const server = text('h1/web/server');
    expect(server).toContain('DNS:web.example.internal, DNS:web, DNS:h1.web.example.internal, DNS:localhost, IP Address:10.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(server).toMatch(/Extended Key Usage: *\n\s+TLS Web Server Authentication\n/);
    expect(server).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature\n/);
    expect(server).toMatch(/Basic Constraints: critical\n\s+CA:FALSE/);
    expect(text('h1/web/client')).toMatch(/Extended Key Usage: *\n\s+TLS Web Client Authentication\n/);
    expect(text('h1/web/client')).toContain('DNS:web, DNS:web.example.internal');
    expect(text('h2/db/server')).toMatch(/Extended Key Usage: *\n\s+TLS Web Server Authentication, TLS Web Client Authentication\n/);
    expect(text('h2/db/client')).toMatch(/Extended Key Usage: *\n\s+TLS Web Server Authentication\n/);
    expect(sh('openssl', ['x509', '-noout', '-subject', '-in', join(x509, 'h1/web/client/cert.pem')]).trim()).toBe('subject=CN = web');
    expect(sh('openssl', ['x509', '-noout', '-subject', '-in', join(x509, 'h1/web/server/cert.pem')]).trim()).toBe('subject=CN = web.example.internal');
    // The EKUs do what the modes say: openssl checks the purpose.
    const purpose = (purp: string, id: string) => {
      try {
        sh('openssl', ['verify', '-purpose', purp, '-CAfile', join(x509, 'ca.pem'), join(x509, id, 'cert.pem')]);
        return true;
      } catch {
        return false;
      }
    };
    expect([purpose('sslserver', 'h1/web/server'), purpose('sslclient', 'h1/web/server')]).toEqual([true, false]);
    expect([purpose('sslserver', 'h1/web/client'), purpose('sslclient', 'h1/web/client')]).toEqual([false, true]);
    expect([purpose('sslserver', 'h2/db/server'), purpose('sslclient', 'h2/db/server')]).toEqual([true, true]);
  });

  it('certificates are valid from a day ago for 365 days', () => {
    const dates = sh('openssl', ['x509', '-noout', '-startdate', '-enddate', '-in', join(x509, 'h1/web/server/cert.pem')]);
    const [start, end] = dates.trim().split('\n').map((l) => new Date(l.split('=')[1]).getTime());
    expect(Math.abs(start - (now.getTime() - DAY))).toBeLessThan(2000);
    expect(Math.abs(end - (now.getTime() + 365 * DAY))).toBeLessThan(2000);
  });

  it('private keys are vault-encrypted at rest, 0600, and match their certificates', () => {
    const keysFile = hostKeysPath(dir, 'h1');
    const raw = readFileSync(keysFile, 'utf8');
    expect(raw.startsWith('$ANSIBLE_VAULT;1.1;AES256\n')).toBe(true);
    expect(statSync(keysFile).mode & 0o777).toBe(0o600);
    const keys = (parse(sh('ansible-vault', ['view', '--vault-password-file', passwordFile(), keysFile])) as { float_host_private_keys: Record<string, string> })
      .float_host_private_keys;
    expect(Object.keys(keys).sort()).toEqual(['web/client', 'web/server']);
    for (const k of ['web/client', 'web/server']) {
      const fromKey = sh('openssl', ['pkey', '-pubout'], keys[k]);
      const fromCert = sh('openssl', ['x509', '-noout', '-pubkey', '-in', join(x509, 'h1', k, 'cert.pem')]);
      expect(fromKey).toBe(fromCert);
    }
    // No private key in the clear anywhere in credentials_dir.
    for (const f of walk(dir)) expect(readFileSync(f, 'utf8')).not.toContain('PRIVATE KEY');
  });

  it('is idempotent: a second run issues nothing and rewrites no file', async () => {
    const before = mtimes();
    const r = await ensureCertificates(dir, requests, codec, now);
    expect(r.issued).toEqual([]);
    expect(r.kept).toHaveLength(4);
    expect(mtimes()).toEqual(before);
  });

  it('a changed SAN or mode re-issues only that certificate', async () => {
    const changed = [requests[0], requests[1], { ...requests[2], ipAddresses: ['10.0.0.3'] }, { ...requests[3], mode: 'both' as const }];
    expect((await ensureCertificates(dir, changed, codec, now)).issued).toEqual(['h2/db/server', 'h2/db/client']);
    expect(text('h2/db/server')).toContain('IP Address:10.0.0.3');
    expect(text('h2/db/client')).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    requests.splice(0, 4, ...changed);
    verify(requests.map((q) => q.id));
  });

  it('re-issues within 30 days of expiry, not before', async () => {
    const r31 = await ensureCertificates(dir, requests, codec, new Date(now.getTime() + 334 * DAY)); // 31 days left
    expect(r31.issued).toEqual([]);
    const r29 = await ensureCertificates(dir, requests, codec, new Date(now.getTime() + 336 * DAY)); // 29 days left
    expect(r29.issued.sort()).toEqual(requests.map((q) => q.id).sort());
  });

  it('certificates no longer requested are kept on disk and reported', async () => {
    const r = await ensureCertificates(dir, requests.slice(0, 2), codec, now);
    expect(r.issued).toEqual([]);
    expect(r.stale).toEqual(['h2/db/client', 'h2/db/server']);
    expect(readFileSync(join(x509, 'h2/db/server/cert.pem'), 'utf8')).toContain('BEGIN CERTIFICATE');
  });

  it('a private_keys.yml restored from an older state is detected: only the certificates without their key are re-issued', async () => {
    const d = tmp();
    const reqs = [req('h/a/server', 'server', 'server', ['a']), req('h/b/server', 'server', 'server', ['b'])];
    await ensureCertificates(d, reqs.slice(0, 1), codec, now);
    const oldKeys = readFileSync(hostKeysPath(d, 'h'), 'utf8');
    await ensureCertificates(d, reqs, codec, now);
    writeFileSync(hostKeysPath(d, 'h'), oldKeys); // e.g. a git checkout of the older file
    const r = await ensureCertificates(d, reqs, codec, now);
    expect(r.issued).toEqual(['h/b/server']);
    expect(r.kept).toEqual(['h/a/server']);
    const keys = (parse(vaultDecrypt(readFileSync(hostKeysPath(d, 'h'), 'utf8'), PASSWORD).toString()) as { float_host_private_keys: Record<string, string> })
      .float_host_private_keys;
    expect(sh('openssl', ['pkey', '-pubout'], keys['b/server'])).toBe(sh('openssl', ['x509', '-noout', '-pubkey', '-in', join(d, 'x509/h/b/server/cert.pem')]));
    // Verified once, recorded: the next run opens nothing and issues nothing.
    const before = readFileSync(join(d, 'x509/index.json'), 'utf8');
    expect((await ensureCertificates(d, reqs, codec, now)).issued).toEqual([]);
    expect(readFileSync(join(d, 'x509/index.json'), 'utf8')).toBe(before);
  });

  it('a replaced cert.pem is re-issued; a lost CA key is an error, a lost CA certificate is re-made from the key', async () => {
    const d = tmp();
    const reqs = [req('h/a/server', 'server', 'server', ['a']), req('h/a/client', 'client', 'client', ['a'])];
    await ensureCertificates(d, reqs, codec, now);
    writeFileSync(join(d, 'x509/h/a/client/cert.pem'), readFileSync(join(d, 'x509/h/a/server/cert.pem')));
    expect((await ensureCertificates(d, reqs, codec, now)).issued).toEqual(['h/a/client']);
    const caKey = readFileSync(join(d, 'x509/ca_private_key.pem'));
    rmSync(join(d, 'x509/ca_private_key.pem'));
    await expect(ensureCertificates(d, reqs, codec, now)).rejects.toThrow(/CA private key .* does not/);
    writeFileSync(join(d, 'x509/ca_private_key.pem'), caKey);
    const oldCa = readFileSync(join(d, 'x509/ca.pem'), 'utf8');
    rmSync(join(d, 'x509/ca.pem'));
    const r = await ensureCertificates(d, reqs, codec, now);
    expect(readFileSync(join(d, 'x509/ca.pem'), 'utf8')).not.toBe(oldCa);
    expect(r.issued.sort()).toEqual(['h/a/client', 'h/a/server']);
    expect(sh('openssl', ['pkey', '-pubin', '-pubout'], sh('openssl', ['x509', '-noout', '-pubkey'], oldCa))).toBe(
      sh('openssl', ['x509', '-noout', '-pubkey', '-in', join(d, 'x509/ca.pem')]),
    );
  });

  it('a wrong vault password fails before any certificate is written', async () => {
    const d = tmp();
    const reqs = [req('h/a/server', 'server', 'server', ['a'])];
    await ensureCertificates(d, reqs, codec, now);
    const before = Object.fromEntries(walk(d).map((f) => [f, readFileSync(f, 'utf8')]));
    const later = new Date(now.getTime() + 340 * DAY); // must re-issue, so must open the CA key
    await expect(ensureCertificates(d, reqs, makeVaultCodec('wrong'), later)).rejects.toThrow(/(private_keys\.yml|ca_private_key\.pem): vault: HMAC mismatch/);
    expect(Object.fromEntries(walk(d).map((f) => [f, readFileSync(f, 'utf8')]))).toEqual(before);
  });

  it('renews the CA certificate a year before it expires, with the same key: nothing is re-issued, and openssl accepts the old certificates', async () => {
    const d = tmp();
    const reqs = [req('h/a/server', 'server', 'server', ['a']), req('h/a/client', 'client', 'client', ['a'])];
    await ensureCertificates(d, [], codec, now); // the CA alone, valid 10 years
    const caPem = join(d, 'x509', 'ca.pem');
    const first = new X509Certificate(readFileSync(caPem));
    const expiry = new Date(first.validTo).getTime();
    const t1 = new Date(expiry - 400 * DAY); // 400 days left: no renewal yet
    expect((await ensureCertificates(d, reqs, codec, t1)).caRenewedUntil).toBeUndefined();
    expect(readFileSync(caPem, 'utf8')).toBe(first.toString());
    const leaves = reqs.map((q) => readFileSync(join(d, 'x509', q.id, 'cert.pem'), 'utf8'));
    const t2 = new Date(expiry - 360 * DAY); // 360 days left: renewed; the leaves have 325 days left
    const r = await ensureCertificates(d, reqs, codec, t2);
    expect(r.issued).toEqual([]);
    expect(r.kept.sort()).toEqual(reqs.map((q) => q.id).sort());
    const renewed = new X509Certificate(readFileSync(caPem));
    expect(renewed.fingerprint256).not.toBe(first.fingerprint256);
    expect(r.caRenewedUntil!.getTime()).toBe(new Date(renewed.validTo).getTime());
    const report = formatCredentialsReport(d, { secretsGenerated: [], secretsOrphaned: [], certsIssued: 0, certsKept: 2, certsStale: [], caRenewedUntil: r.caRenewedUntil });
    expect(report).toContain(`  internal CA certificate renewed with the same key, valid until ${r.caRenewedUntil!.toISOString().slice(0, 10)}; every certificate it signed stays valid`);
    expect(new Date(renewed.validTo).getTime() - t2.getTime()).toBeGreaterThan(3600 * DAY);
    expect(renewed.subject).toBe(first.subject);
    expect(renewed.publicKey.export({ type: 'spki', format: 'der' }).equals(first.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
    expect(reqs.map((q) => readFileSync(join(d, 'x509', q.id, 'cert.pem'), 'utf8'))).toEqual(leaves);
    // The certificates signed under the old CA certificate verify against the new one.
    const at = String(Math.floor(t2.getTime() / 1000));
    expect(sh('openssl', ['verify', '-x509_strict', '-attime', at, '-CAfile', caPem, ...reqs.map((q) => join(d, 'x509', q.id, 'cert.pem'))])).toMatch(/: OK\n.*: OK/s);
    // The next run keeps everything, the renewed CA included.
    const again = await ensureCertificates(d, reqs, codec, new Date(t2.getTime() + DAY));
    expect([again.issued, again.caRenewedUntil]).toEqual([[], undefined]);
    expect(new X509Certificate(readFileSync(caPem)).fingerprint256).toBe(renewed.fingerprint256);
  });
});

describe('SSH CA', () => {
  it('creates an ed25519 CA once: key.pub in the clear, private key vault-encrypted', async () => {
    const dir = tmp();
    const pub = await ensureSshCa(dir, codec);
    expect(pub).toMatch(/^ssh-ed25519 AAAA\S+ float SSH CA$/);
    expect(await ensureSshCa(dir, codec)).toBe(pub);
    expect(readFileSync(sshCaPaths(dir).publicKey, 'utf8').trim()).toBe(pub);
    expect(statSync(sshCaPaths(dir).privateKey).mode & 0o777).toBe(0o600);
    const raw = readFileSync(sshCaPaths(dir).privateKey, 'utf8');
    expect(raw.startsWith('$ANSIBLE_VAULT;1.1;AES256\n')).toBe(true);
    expect(raw).not.toContain('PRIVATE KEY');
    // The decrypted key is the key of key.pub.
    const k = join(tmp(), 'k');
    writeFileSync(k, vaultDecrypt(raw, PASSWORD), { mode: 0o600 });
    expect(sh('ssh-keygen', ['-y', '-f', k]).split(' ').slice(0, 2).join(' ')).toBe(pub.split(' ').slice(0, 2).join(' '));
  });
  it('a lost key.pub is re-derived; a lost private key is an error, not a new CA', async () => {
    const dir = tmp();
    const pub = await ensureSshCa(dir, codec);
    rmSync(sshCaPaths(dir).publicKey);
    expect(await ensureSshCa(dir, codec)).toBe(pub);
    rmSync(sshCaPaths(dir).privateKey);
    await expect(ensureSshCa(dir, codec)).rejects.toThrow(/SSH CA private key .* does not/);
    expect(readFileSync(sshCaPaths(dir).publicKey, 'utf8').trim()).toBe(pub);
  });
  it('signs host keys: ssh-keygen -L shows a host certificate with the principals and a year of validity', async () => {
    const dir = tmp();
    const k = join(tmp(), 'hostkey');
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k]);
    const cert = await signHostKey(dir, codec, readFileSync(`${k}.pub`, 'utf8'), { identity: 'host1', principals: ['host1.example.internal', 'host1', 'host1'] });
    const f = join(tmp(), 'hostkey-cert.pub');
    writeFileSync(f, cert + '\n');
    const out = sh('ssh-keygen', ['-L', '-f', f]);
    expect(out).toContain('ssh-ed25519-cert-v01@openssh.com host certificate');
    expect(out).toContain('Key ID: "host1"');
    expect(out).toMatch(/Principals: \n\s+host1.example.internal\n\s+host1\n\s+Critical/);
    const valid = /Valid: from (\S+) to (\S+)/.exec(out)!;
    expect(Math.abs(new Date(valid[1]).getTime() - (Date.now() - 5 * 60_000))).toBeLessThan(60_000);
    expect(Math.abs(new Date(valid[2]).getTime() - (Date.now() + 365 * 86_400_000))).toBeLessThan(60_000);
    expect(out).toContain(`Signing CA: ED25519 ${caFingerprint(dir)}`);
    const info = inspectCertificate(cert);
    expect(info.principals).toEqual(['host1.example.internal', 'host1']);
    // ssh-keygen itself accepts the certificate against the CA for the principal.
    const kh = join(tmp(), 'known_hosts');
    writeFileSync(kh, `@cert-authority *.example.internal ${readFileSync(sshCaPaths(dir).publicKey, 'utf8')}`);
    expect(sh('ssh-keygen', ['-F', 'host1.example.internal', '-f', kh])).toContain('@cert-authority');
  });
  it('signs in process: no ssh-keygen needed, the CA key is never decrypted into a file', async () => {
    const dir = tmp();
    const k = join(tmp(), 'hostkey');
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k]);
    const hostPub = readFileSync(`${k}.pub`, 'utf8');
    const path = process.env.PATH;
    process.env.PATH = tmp(); // an empty directory: no ssh-keygen to hand a key file to
    let cert: string;
    try {
      await ensureSshCa(dir, codec);
      cert = await signHostKey(dir, codec, hostPub, { identity: 'host1', principals: ['host1.example.internal'] });
    } finally {
      process.env.PATH = path;
    }
    // Only the vault-encrypted key and the public key are in credentials_dir.
    expect(readdirSync(join(dir, 'ssh')).sort()).toEqual(['key', 'key.pub']);
    const f = join(tmp(), 'c-cert.pub');
    writeFileSync(f, cert + '\n');
    expect(sh('ssh-keygen', ['-L', '-f', f])).toContain(`Signing CA: ED25519 ${caFingerprint(dir)}`);
  });
  it('ECDSA and RSA host keys too; ssh-keygen checks the CA signature and refuses a tampered certificate', async () => {
    const dir = tmp();
    for (const type of ['ecdsa', 'rsa']) {
      const k = join(tmp(), `hostkey-${type}`);
      sh('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', k]);
      const cert = await signHostKey(dir, codec, readFileSync(`${k}.pub`, 'utf8'), { identity: 'host1', principals: ['host1'] });
      const f = join(tmp(), 'c-cert.pub');
      writeFileSync(f, cert + '\n');
      const out = sh('ssh-keygen', ['-L', '-f', f]);
      expect(out).toContain(type === 'rsa' ? 'ssh-rsa-cert-v01@openssh.com host certificate' : 'ecdsa-sha2-nistp256-cert-v01@openssh.com host certificate');
      expect(out).toContain(`Signing CA: ED25519 ${caFingerprint(dir)}`);
      // The certified key is the host's key.
      expect(inspectCertificate(cert).keyFingerprint).toBe(sh('ssh-keygen', ['-l', '-f', `${k}.pub`]).split(' ')[1]);
      const [t, b64] = cert.split(' ');
      const blob = Buffer.from(b64, 'base64');
      blob[blob.length - 3] ^= 0x01; // inside the signature
      writeFileSync(f, `${t} ${blob.toString('base64')}\n`);
      expect(() => sh('ssh-keygen', ['-L', '-f', f])).toThrow(/incorrect signature/);
    }
  });
  it('certificates are read in process as ssh-keygen -L reads them, and a tampered one is refused', async () => {
    const dir = tmp();
    for (const type of ['ed25519', 'ecdsa', 'rsa']) {
      const k = join(tmp(), `hostkey-${type}`);
      sh('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', k]);
      const cert = await signHostKey(dir, codec, readFileSync(`${k}.pub`, 'utf8'), { identity: 'host9', principals: ['host9.example.internal', 'host9'] });
      const f = join(tmp(), 'c-cert.pub');
      writeFileSync(f, cert + '\n');
      const out = sh('ssh-keygen', ['-L', '-f', f]);
      const c = parseCertificate(cert);
      expect(c.signatureValid).toBe(true);
      expect(out).toContain(`Serial: ${c.serial}`);
      expect(out).toContain(`Key ID: "${c.keyId}"`);
      expect(c.certType).toBe(2);
      expect(c.principals).toEqual(['host9.example.internal', 'host9']);
      const valid = /Valid: from (\S+) to (\S+)/.exec(out)!;
      // ssh-keygen prints local time without a zone; this machine runs in UTC.
      expect(c.validAfter.toISOString().slice(0, 19)).toBe(valid[1]);
      expect(c.validBefore.toISOString().slice(0, 19)).toBe(valid[2]);
      const info = inspectCertificate(cert);
      expect(info.keyFingerprint).toBe(sh('ssh-keygen', ['-l', '-f', `${k}.pub`]).split(' ')[1]);
      expect(info.signingCaFingerprint).toBe(caFingerprint(dir));
      expect(out).toContain(`Signing CA: ED25519 ${info.signingCaFingerprint}`);
      const [t, b64] = cert.split(' ');
      const blob = Buffer.from(b64, 'base64');
      blob[blob.length - 3] ^= 0x01; // inside the signature
      expect(parseCertificate(`${t} ${blob.toString('base64')}`).signatureValid).toBe(false);
      expect(() => inspectCertificate(`${t} ${blob.toString('base64')}`)).toThrow(/signature does not verify/);
      expect(() => parseCertificate(`${t} ${blob.subarray(0, 100).toString('base64')}`)).toThrow(/truncated/);
    }
  });
  it('a CA key that ssh-keygen made (older credentials directories) keeps signing as the same CA', async () => {
    const dir = tmp();
    const k = join(tmp(), 'ca');
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'float SSH CA', '-f', k]);
    mkdirSync(join(dir, 'ssh'));
    writeFileSync(sshCaPaths(dir).privateKey, codec.encrypt(readFileSync(k)), { mode: 0o600 });
    // key.pub is derived from it, as ssh-keygen has it.
    expect(await ensureSshCa(dir, codec)).toBe(readFileSync(`${k}.pub`, 'utf8').trim());
    const h = join(tmp(), 'hostkey');
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', h]);
    const cert = await signHostKey(dir, codec, readFileSync(`${h}.pub`, 'utf8'), { identity: 'host1', principals: ['host1'] });
    expect(inspectCertificate(cert).signingCaFingerprint).toBe(sh('ssh-keygen', ['-l', '-f', `${k}.pub`]).split(' ')[1]);
  });
  it('a key.pub that is not the private key\'s public key is an error naming both files; a host key that is not a key is an error', async () => {
    const dir = tmp();
    await ensureSshCa(dir, codec);
    const h = join(tmp(), 'hostkey');
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', h]);
    await expect(signHostKey(dir, codec, 'not a key', { identity: 'host1', principals: ['host1'] })).rejects.toThrow(/cannot sign the SSH host key of host1: not an SSH public key/);
    writeFileSync(sshCaPaths(dir).publicKey, readFileSync(`${h}.pub`, 'utf8'));
    await expect(signHostKey(dir, codec, readFileSync(`${h}.pub`, 'utf8'), { identity: 'host1', principals: ['host1'] })).rejects.toThrow(
      /ssh\/key\.pub is not the public key of .*ssh\/key: restore the matching pair/,
    );
  });
});

function walk(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
}
