// The admin CA and the admin commands, checked with the real tools: openssl verifies
// the admins' client certificates against the admin CA only (not the internal CA),
// they are kept while current, re-issued 30 days before expiry and revoked when the
// admin is removed; private keys are vault-encrypted; `float admin-cert` writes a
// PKCS#12 that openssl opens with its password; `float ssh-cert` signs a user
// certificate ssh-keygen reads (principals: the admin and root); bad arguments are
// user errors.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adminPaths, ensureAdminCertificates, readAdminIndex } from '../../src/credentials/admin-ca.js';
import { caPaths } from '../../src/credentials/pki-store.js';
import { makeVaultCodec } from '../../src/credentials/vault.js';
import { baseTree, REPO_ROOT, writeTree } from '../helpers/tree.js';

const FLOAT = join(REPO_ROOT, 'bin/float.mjs');
const float = (dir: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [FLOAT, ...args, '--config', join(dir, 'config.yml')], { encoding: 'utf8', cwd: dir });
  return { status: r.status, out: r.stdout + r.stderr };
};
const openssl = (...args: string[]) => spawnSync('openssl', args, { encoding: 'utf8' });
const DAY = 86_400_000;

describe('the admin CA', () => {
  const codec = makeVaultCodec('admin-ca-test');

  it('issues one client certificate per admin that verifies against the admin CA only; keys vault-encrypted', () => {
    const dir = writeTree({});
    const now = new Date();
    expect(ensureAdminCertificates(dir, ['alice', 'bob'], codec, now)).toEqual({ issued: ['alice', 'bob'], kept: [], revoked: [] });
    const p = adminPaths(dir);
    const v = openssl('verify', '-CAfile', p.caCert, '-purpose', 'sslclient', p.cert('alice'));
    expect(v.stdout + v.stderr).toContain(': OK');
    // Not a server certificate.
    expect(openssl('verify', '-CAfile', p.caCert, '-purpose', 'sslserver', p.cert('alice')).status).not.toBe(0);
    expect(openssl('x509', '-in', p.cert('bob'), '-noout', '-subject', '-issuer').stdout).toMatch(/subject=CN = bob\nissuer=O = float, CN = float admin CA/);
    // The private keys: vault-encrypted, owner-only.
    expect(readFileSync(p.key('alice'), 'utf8')).toMatch(/^\$ANSIBLE_VAULT;1\.1;AES256/);
    expect(statSync(p.key('alice')).mode & 0o777).toBe(0o600);
    expect(readFileSync(p.caKey, 'utf8')).toMatch(/^\$ANSIBLE_VAULT;1\.1;AES256/);
    // The serial nginx will see, as openssl prints it.
    const serial = openssl('x509', '-in', p.cert('alice'), '-noout', '-serial').stdout.trim().replace('serial=', '');
    expect(readAdminIndex(dir).admins.alice.serial).toBe(serial);
    // Another CA (the internal one of another credentials_dir) does not verify it.
    const other = writeTree({});
    ensureAdminCertificates(other, ['alice'], codec, now);
    expect(openssl('verify', '-CAfile', adminPaths(other).caCert, p.cert('alice')).status).not.toBe(0);
  });

  it('keeps current certificates, re-issues them 30 days before expiry, and revokes removed admins', () => {
    const dir = writeTree({});
    const now = new Date();
    ensureAdminCertificates(dir, ['alice', 'bob'], codec, now);
    const p = adminPaths(dir);
    const before = readFileSync(p.cert('alice'), 'utf8');
    const first = readAdminIndex(dir);
    expect(ensureAdminCertificates(dir, ['bob', 'alice'], codec, new Date(now.getTime() + 300 * DAY))).toEqual({ issued: [], kept: ['alice', 'bob'], revoked: [] });
    expect(readFileSync(p.cert('alice'), 'utf8')).toBe(before);
    // 340 days on: within 30 days of the one-year expiry.
    const later = new Date(now.getTime() + 340 * DAY);
    expect(ensureAdminCertificates(dir, ['alice', 'bob'], codec, later).issued).toEqual(['alice', 'bob']);
    const second = readAdminIndex(dir);
    expect(second.admins.alice.serial).not.toBe(first.admins.alice.serial);
    expect(second.revoked.map((r) => r.serial)).toEqual([first.admins.alice.serial, first.admins.bob.serial]);
    // A cert.pem edited by hand is re-issued.
    writeFileSync(p.cert('bob'), before);
    expect(ensureAdminCertificates(dir, ['alice', 'bob'], codec, later)).toMatchObject({ issued: ['bob'], kept: ['alice'] });
    // Removing alice: revoked, her files gone.
    expect(ensureAdminCertificates(dir, ['bob'], codec, later)).toMatchObject({ issued: [], kept: ['bob'], revoked: ['alice'] });
    expect(existsSync(p.cert('alice')) || existsSync(p.key('alice'))).toBe(false);
    // Positive control: bob's files, probed the same way, are still there.
    expect(existsSync(p.cert('bob')) && existsSync(p.key('bob'))).toBe(true);
    const third = readAdminIndex(dir);
    expect(Object.keys(third.admins)).toEqual(['bob']);
    expect(third.revoked.at(-1)).toMatchObject({ name: 'alice', serial: second.admins.alice.serial });
  });

  it('no admins and no admin-only endpoint: nothing is created', () => {
    const dir = writeTree({});
    expect(ensureAdminCertificates(dir, [], codec, new Date())).toEqual({ issued: [], kept: [], revoked: [] });
    expect(existsSync(adminPaths(dir).base)).toBe(false);
    // Positive control: an admin-only endpoint (wantCa) and still no admin: the admin CA alone.
    expect(ensureAdminCertificates(dir, [], codec, new Date(), { wantCa: true })).toEqual({ issued: [], kept: [], revoked: [] });
    expect(existsSync(adminPaths(dir).caCert) && existsSync(adminPaths(dir).caKey)).toBe(true);
  });
});

describe('float admin-cert and float ssh-cert', () => {
  const tree = () =>
    writeTree(
      baseTree({
        'config.yml': 'plugin: float\nvault_password_file: .vault_password\n',
        '.vault_password': 'admin-cli-test\n',
        'group_vars/all.yml': 'domain: internal.example.com\ndomain_public: [example.com]\nadmins:\n  - {name: alice}\n  - {name: bob}\n',
      }),
    );

  it('admin-cert: a PKCS#12 with the certificate, the key and the CA, opened by openssl with the printed password only', () => {
    const dir = tree();
    const r = float(dir, 'admin-cert', 'alice', '--out', join(dir, 'a.p12'));
    expect(r.status, r.out).toBe(0);
    const password = /its password: (\S+)/.exec(r.out)![1];
    expect(statSync(join(dir, 'a.p12')).mode & 0o777).toBe(0o600);
    const certs = openssl('pkcs12', '-in', join(dir, 'a.p12'), '-passin', `pass:${password}`, '-nokeys');
    expect(certs.status, certs.stderr).toBe(0);
    expect(certs.stdout).toMatch(/subject=CN = alice/);
    expect(certs.stdout).toMatch(/subject=O = float, CN = float admin CA/);
    const key = openssl('pkcs12', '-in', join(dir, 'a.p12'), '-passin', `pass:${password}`, '-nocerts', '-nodes');
    expect(key.stdout).toContain('BEGIN PRIVATE KEY');
    expect(openssl('pkcs12', '-in', join(dir, 'a.p12'), '-passin', 'pass:wrong', '-nokeys').status).not.toBe(0);
    // The certificate is the one float keeps (and not the internal CA's).
    expect(certs.stdout).toContain(readFileSync(adminPaths(join(dir, 'credentials')).cert('alice'), 'utf8').trim().split('\n')[1]);
    expect(existsSync(caPaths(join(dir, 'credentials')).cert) ? readFileSync(caPaths(join(dir, 'credentials')).cert, 'utf8') : '').not.toBe(readFileSync(adminPaths(join(dir, 'credentials')).caCert, 'utf8'));
    // --password-file, and no overwriting.
    writeFileSync(join(dir, 'pw'), 'my own password\n');
    expect(float(dir, 'admin-cert', 'bob', '--out', join(dir, 'b.p12'), '--password-file', join(dir, 'pw')).out).not.toContain('its password');
    expect(openssl('pkcs12', '-in', join(dir, 'b.p12'), '-passin', 'pass:my own password', '-nokeys').status).toBe(0);
    const again = float(dir, 'admin-cert', 'bob', '--out', join(dir, 'b.p12'));
    expect(again).toMatchObject({ status: 2 });
    expect(again.out).toContain('[F2042]');
    const unknown = float(dir, 'admin-cert', 'carol', '--out', join(dir, 'c.p12'));
    expect(unknown.status).toBe(2);
    expect(unknown.out).toMatch(/'carol' is not in admins \(alice, bob\) \[F2143\]/);
  });

  it('ssh-cert: a user certificate for the admin and root that ssh-keygen reads, with the validity asked for', () => {
    const dir = tree();
    expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')]).status).toBe(0);
    const r = float(dir, 'ssh-cert', 'bob', '--pubkey', join(dir, 'id.pub'), '--valid', '2h');
    expect(r.status, r.out).toBe(0);
    const l = spawnSync('ssh-keygen', ['-L', '-f', join(dir, 'id-cert.pub')], { encoding: 'utf8' });
    expect(l.stdout).toContain('user certificate');
    expect(l.stdout).toMatch(/Principals: \n\s+bob\n\s+root\n/);
    expect(l.stdout).toMatch(/Signing CA: ED25519 SHA256:/);
    expect(l.stdout).toContain('permit-pty');
    const [, from, to] = /Valid: from (\S+) to (\S+)/.exec(l.stdout)!;
    const hours = (Date.parse(to + 'Z') - Date.parse(from + 'Z')) / 3_600_000;
    expect(hours).toBeCloseTo(2 + 5 / 60, 1);
    // The CA that signed it is the one the hosts trust.
    const ca = spawnSync('ssh-keygen', ['-l', '-f', join(dir, 'credentials/ssh/key.pub')], { encoding: 'utf8' }).stdout.split(' ')[1];
    expect(l.stdout).toContain(`Signing CA: ED25519 ${ca}`);
    for (const [args, code] of [
      [['ssh-cert', 'zed', '--pubkey', join(dir, 'id.pub')], 'F2143'],
      [['ssh-cert', 'bob', '--pubkey', join(dir, 'missing.pub')], 'F2143'],
      [['ssh-cert', 'bob', '--pubkey', join(dir, 'id')], 'F2143'],
      [['ssh-cert', 'bob', '--pubkey', join(dir, 'id.pub'), '--valid', '40d'], 'F2040'],
      [['ssh-cert', 'bob', '--pubkey', join(dir, 'id.pub'), '--valid', 'soon'], 'F2040'],
      [['ssh', 'nohost'], 'F2143'],
    ] as const) {
      const bad = float(dir, ...args);
      expect(bad.status, args.join(' ')).toBe(2);
      expect(bad.out).toContain(`[${code}]`);
      expect(bad.out).not.toContain('internal error');
    }
    // Positive control for float ssh: a host of hosts.yml gets past those checks to ssh itself (which
    // fails here: no connection), with the known_hosts file trusting the SSH CA for the fleet's names.
    const ok = float(dir, 'ssh', 'host1', '-o', 'ProxyCommand=false', '-o', 'BatchMode=yes');
    expect(ok.status, ok.out).toBe(255);
    expect(ok.out).not.toMatch(/\[F\d{4}\]/);
    const caKey = readFileSync(join(dir, 'credentials/ssh/key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    expect(readFileSync(join(dir, '.float/ssh_known_hosts'), 'utf8')).toContain(`\n@cert-authority *.internal.example.com,host1,10.0.0.1,host2,10.0.0.2,host3,10.0.0.3 ${caKey}\n`);
  });
});
