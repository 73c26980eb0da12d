// Admin access on the shared cluster hosts: an admin-only public endpoint
// (enable_sso_proxy) in front of a busybox httpd CGI that logs the requests it gets
// and the X-Float-Admin header; two admins, alice (password and SSH key) and bob
// (neither: certificates only), with admin_accounts. Checks prove from the outside
// that the frontend lets in only the admins' certificates (and alice's password),
// that the backend sees the admin nginx names and nothing of refused requests, that
// `float admin-cert` output imports with openssl, and that SSH certificates from
// `float ssh-cert` log in as root and as the admin. The change removes alice: her
// client certificate, her SSH key and her SSH certificate are then refused while
// bob's still work.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { ClusterCtx, ClusterSuite } from './suite.js';

const PORT = 7810;
const NAME = 'admin-echo.example.test';
const ALICE_PASSWORD = 'alice correct horse';

/** The operator's side: keys, certificates, PKCS#12 files. Made when the configuration is written. */
const local = mkdtempSync(join(tmpdir(), 'float-admin-e2e-'));
const L = (f: string) => join(local, f);

function sh(cmd: string, args: string[], input?: string): { status: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 60_000 });
  return { status: r.status ?? 1, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

let aliceKey = '';
let aliceHash = '';
function prepareLocal(): void {
  if (aliceKey) return;
  for (const k of ['alice', 'alice2', 'bob']) expect(sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', k, '-f', L(`${k}_ed25519`)]).status).toBe(0);
  aliceKey = readFileSync(L('alice_ed25519.pub'), 'utf8').trim();
  // yescrypt, as mkpasswd makes it (libcrypt).
  const h = sh('python3', ['-W', 'ignore', '-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], "$y$j9T$c2FsdHNhbHRzYWx0$"))', ALICE_PASSWORD]);
  expect(h.status, h.out).toBe(0);
  aliceHash = h.out.trim();
  expect(aliceHash).toMatch(/^\$y\$/);
}

/** HTTPS to `name` through fe1, as a client outside the fleet. */
function curlAt(ctx: ClusterCtx, name: string, path: string, args: string[] = []) {
  const r = sh('curl', ['-s', '-k', '--max-time', '10', '-D', '-', '--resolve', `${name}:443:${ctx.ip.fe1}`, ...args, `https://${name}${path}`]);
  return { code: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(r.out)?.[1] ?? 0), out: r.out };
}
const curl = (ctx: ClusterCtx, path: string, args: string[] = []) => curlAt(ctx, NAME, path, args);
const cert = (who: string) => ['--cert', L(`${who}.crt`), '--key', L(`${who}.key`)];

/** The backend's request log (one line per request: REQUEST_URI and X-Float-Admin as the CGI saw them). */
function backendLog(ctx: ClusterCtx): string {
  for (const h of ['be1', 'be2']) {
    const r = ctx.on(h, 'podman exec admin-echo-http cat /tmp/w/log 2>/dev/null');
    if (r.status === 0) return r.out;
  }
  return '';
}
const sawPath = (ctx: ClusterCtx, path: string) => backendLog(ctx).split('\n').filter((l) => l.trim().endsWith(`REQUEST_URI=${path}`));

/** ssh to a host as `user` with a key (and its certificate beside it, when there is one), running `command`. */
function ssh(ctx: ClusterCtx, host: 'be1' | 'fe1', user: string, key: string, command: string, certFile?: string) {
  return sh('ssh', [
    '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes', '-o', 'ConnectTimeout=10',
    '-o', `CertificateFile=${certFile ?? '/dev/null'}`, '-i', key, `${user}@${ctx.ip[host]}`, command,
  ]);
}

export const adminSuite: ClusterSuite = {
  name: 'admin',
  services: () => `
admin-echo:
  scheduling_group: backend
  num_instances: 1
  containers:
    - name: http
      image: localhost/busybox:latest
      # A CGI (busybox httpd runs cgi-bin/index.cgi for any directory URL) that logs the
      # request path and X-Float-Admin, and answers with them.
      args: >-
        /bin/sh -c 'busybox mkdir -p /tmp/w/cgi-bin && cd /tmp/w/cgi-bin && echo "#!/bin/sh" > index.cgi &&
        echo "echo Content-Type: text/plain; echo; busybox env | busybox grep -e ^REQUEST_URI= -e ^HTTP_X_FLOAT_ADMIN= -e ^HTTP_AUTHORIZATION= | busybox sort | busybox xargs | busybox tee -a /tmp/w/log" >> index.cgi &&
        busybox chmod 755 index.cgi && exec /bin/httpd -f -p ${PORT} -h /tmp/w'
  public_endpoints:
    - name: admin-echo
      port: ${PORT}
      scheme: http
      enable_sso_proxy: true
`,
  globals: () => {
    prepareLocal();
    return [
      'admin_accounts: true',
      'admins:',
      '  - name: alice',
      `    password: '${aliceHash}'`,
      `    ssh_keys: ['${aliceKey}']`,
      '  - name: bob',
      '',
    ].join('\n');
  },

  checks(ctx) {
    it('float admin-cert writes PKCS#12 files that openssl imports with their password', () => {
      writeFileSync(L('p12-password'), 'a password for the test\n');
      const a = ctx.float(['admin-cert', 'alice', '--out', L('alice.p12'), '--password-file', L('p12-password')], 'admin-cert alice');
      expect(a.status, a.out).toBe(0);
      const b = ctx.float(['admin-cert', 'bob', '--out', L('bob.p12')], 'admin-cert bob');
      expect(b.status, b.out).toBe(0);
      const generated = /its password: (\S+)/.exec(b.out)?.[1];
      expect(generated, b.out).toBeTruthy();
      for (const [who, pass] of [['alice', 'pass:a password for the test'], ['bob', `pass:${generated}`]] as const) {
        const c = sh('openssl', ['pkcs12', '-in', L(`${who}.p12`), '-passin', pass, '-clcerts', '-nokeys', '-out', L(`${who}.crt`)]);
        expect(c.status, c.out).toBe(0);
        const k = sh('openssl', ['pkcs12', '-in', L(`${who}.p12`), '-passin', pass, '-nocerts', '-nodes', '-out', L(`${who}.key`)]);
        expect(k.status, k.out).toBe(0);
        expect(sh('openssl', ['x509', '-in', L(`${who}.crt`), '-noout', '-subject']).out).toMatch(new RegExp(`CN ?= ?${who}`));
      }
      // The wrong password does not open it.
      expect(sh('openssl', ['pkcs12', '-in', L('alice.p12'), '-passin', 'pass:wrong', '-nokeys']).status).not.toBe(0);
      // An existing file is not overwritten.
      expect(ctx.float(['admin-cert', 'bob', '--out', L('bob.p12')]).status).toBe(2);
    });

    it("the built-in admin endpoints: the dashboard, Prometheus' and Alertmanager's UIs are refused without a certificate, served with bob's", () => {
      const dash = 'dashboard.example.test';
      expect(curlAt(ctx, dash, '/').code).toBe(403);
      expect(curlAt(ctx, dash, '/api/v1/query?query=up').code).toBe(403);
      expect(curlAt(ctx, 'monitoring.example.test', '/-/ready').code).toBe(403);
      expect(curlAt(ctx, 'alertmanager.example.test', '/-/ready').code).toBe(403);
      // With bob's certificate: the site float rendered, and the live state it asks Prometheus for.
      const site = curlAt(ctx, dash, '/', cert('bob'));
      expect(site.code, site.out).toBe(200);
      expect(site.out).toContain('<!DOCTYPE html>');
      const q = curlAt(ctx, dash, '/api/v1/query?query=up', cert('bob'));
      expect(q.code, q.out).toBe(200);
      const body = JSON.parse(q.out.slice(q.out.indexOf('\r\n\r\n') + 4)) as { status: string; data: { result: unknown[] } };
      expect(body.status).toBe('success');
      expect(body.data.result.length).toBeGreaterThan(0);
      // Only the query API: the rest of Prometheus is not behind this name.
      expect(curlAt(ctx, dash, '/api/v1/targets', cert('bob')).code).toBe(404);
      expect(curlAt(ctx, 'monitoring.example.test', '/-/ready', cert('bob')).code).toBe(200);
      expect(curlAt(ctx, 'alertmanager.example.test', '/-/ready', cert('bob')).code).toBe(200);
    });

    it('no certificate: 403 and the backend sees nothing, forged header or not', () => {
      const r = curl(ctx, '/anon/', ['-H', 'X-Float-Admin: alice', '-u', `alice:${ALICE_PASSWORD}`]);
      expect(r.code, r.out).toBe(403);
      expect(sawPath(ctx, '/anon/')).toEqual([]);
      // Positive control, same probes: with bob's certificate the request gets through and is logged.
      expect(curl(ctx, '/anon-control/', cert('bob')).code).toBe(200);
      expect(sawPath(ctx, '/anon-control/')).toEqual(['HTTP_X_FLOAT_ADMIN=bob REQUEST_URI=/anon-control/']);
    });

    it("bob's certificate: 200, and the backend sees bob whatever header the client sends", () => {
      const r = curl(ctx, '/bob/', [...cert('bob'), '-H', 'X-Float-Admin: alice']);
      expect(r.code, r.out).toBe(200);
      expect(r.out).toMatch(/cache-control: no-store/i);
      expect(sawPath(ctx, '/bob/')).toEqual(['HTTP_X_FLOAT_ADMIN=bob REQUEST_URI=/bob/']);
    });

    it("alice needs her certificate and her password: 401 without the password, 200 with both, her password never reaches the backend", () => {
      expect(curl(ctx, '/alice-nopw/', cert('alice')).code).toBe(401);
      expect(curl(ctx, '/alice-wrongpw/', [...cert('alice'), '-u', 'alice:wrong']).code).toBe(401);
      expect(curl(ctx, '/alice-pwonly/', ['-u', `alice:${ALICE_PASSWORD}`]).code).toBe(403);
      expect(sawPath(ctx, '/alice-nopw/')).toEqual([]);
      const r = curl(ctx, '/alice-ok/', [...cert('alice'), '-u', `alice:${ALICE_PASSWORD}`]);
      expect(r.code, r.out).toBe(200);
      const seen = sawPath(ctx, '/alice-ok/');
      expect(seen).toHaveLength(1);
      expect(seen[0]).toContain('HTTP_X_FLOAT_ADMIN=alice');
      // busybox httpd hands no Authorization header to its CGIs, so this probe cannot see one:
      // test/integration/admin-nginx.test.ts checks it, with its positive control, on a backend that can.
      expect(seen[0]).not.toContain('HTTP_AUTHORIZATION');
    });

    it('a certificate of the internal service CA: 403', () => {
      // The frontend's own client certificate and key (internal CA), read from fe1.
      const c = ctx.on('fe1', 'cat /etc/credentials/x509/frontend/client/cert.pem');
      const k = ctx.on('fe1', 'cat /etc/credentials/x509/frontend/client/private_key.pem');
      expect(c.status, c.out).toBe(0);
      expect(k.status).toBe(0);
      writeFileSync(L('internal.crt'), c.out + '\n');
      writeFileSync(L('internal.key'), k.out + '\n', { mode: 0o600 });
      const r = curl(ctx, '/internal-ca/', [...cert('internal'), '-H', 'X-Float-Admin: bob']);
      expect(r.code, r.out).toBe(403);
      expect(sawPath(ctx, '/internal-ca/')).toEqual([]);
      // Positive control, same moment: an admin-CA certificate gets through.
      expect(curl(ctx, '/internal-ca-control/', cert('bob')).code).toBe(200);
      expect(sawPath(ctx, '/internal-ca-control/')).toHaveLength(1);
    });

    it('SSH certificates from float ssh-cert log in as root and as the admin; the key alone does not; an expired one is refused', () => {
      const s = ctx.float(['ssh-cert', 'bob', '--pubkey', L('bob_ed25519.pub'), '--valid', '1h'], 'ssh-cert bob');
      expect(s.status, s.out).toBe(0);
      const bobCert = L('bob_ed25519-cert.pub');
      expect(ssh(ctx, 'be1', 'root', L('bob_ed25519'), 'id -un', bobCert)).toMatchObject({ status: 0, out: 'root\n' });
      expect(ssh(ctx, 'be1', 'bob', L('bob_ed25519'), 'id -un; sudo -n id -u', bobCert)).toMatchObject({ status: 0, out: 'bob\n0\n' });
      // bob has no long-lived key on the hosts: without the certificate, refused.
      expect(ssh(ctx, 'be1', 'root', L('bob_ed25519'), 'true').status).toBe(255);
      expect(ssh(ctx, 'be1', 'bob', L('bob_ed25519'), 'true').status).toBe(255);
      // bob's certificate is not alice's account.
      expect(ssh(ctx, 'be1', 'alice', L('bob_ed25519'), 'true', bobCert).status).toBe(255);
      // alice: her key (root and her account), and her certificate.
      expect(ssh(ctx, 'fe1', 'root', L('alice_ed25519'), 'id -un')).toMatchObject({ status: 0, out: 'root\n' });
      expect(ssh(ctx, 'fe1', 'alice', L('alice_ed25519'), 'id -un')).toMatchObject({ status: 0, out: 'alice\n' });
      const a = ctx.float(['ssh-cert', 'alice', '--pubkey', L('alice_ed25519.pub'), '--out', L('alice-cert.pub')]);
      expect(a.status, a.out).toBe(0);
      // An expired certificate: valid for 1 s.
      const e = ctx.float(['ssh-cert', 'bob', '--pubkey', L('bob_ed25519.pub'), '--valid', '1s', '--out', L('bob-expired-cert.pub')]);
      expect(e.status, e.out).toBe(0);
      spawnSync('sleep', ['2']);
      expect(ssh(ctx, 'be1', 'root', L('bob_ed25519'), 'true', L('bob-expired-cert.pub')).status).toBe(255);
    });

    it('float ssh trusts the fleet SSH CA for host keys', () => {
      const r = ctx.float(['ssh', 'be2', 'hostname', '-i', L('bob_ed25519'), '-o', 'BatchMode=yes', '-o', `CertificateFile=${L('bob_ed25519-cert.pub')}`]);
      expect(r.status, r.out).toBe(0);
      expect(r.out).toContain('be2');
      const known = readFileSync(join(ctx.dir, '.float/ssh_known_hosts'), 'utf8');
      expect(known).toMatch(/^@cert-authority \*\.infra\.test,aux1,/m);
    });
  },

  changes(ctx) {
    afterAll(() => rmSync(local, { recursive: true, force: true }));

    it("removing alice: her client certificate, SSH key and SSH certificate are refused; bob's still work", () => {
      // Before: a certificate for a key of alice's that the hosts do not know works, as root and
      // as alice (the positive control for the same files after).
      const a = ctx.float(['ssh-cert', 'alice', '--pubkey', L('alice2_ed25519.pub')]);
      expect(a.status, a.out).toBe(0);
      for (const user of ['root', 'alice']) {
        expect(ssh(ctx, 'be1', user, L('alice2_ed25519'), 'id -un', L('alice2_ed25519-cert.pub'))).toMatchObject({ status: 0, out: `${user}\n` });
        expect(ssh(ctx, 'be1', user, L('alice2_ed25519'), 'true').status, 'that key alone').toBe(255);
      }
      expect(readFileSync(join(ctx.dir, 'group_vars/all/admin.yml'), 'utf8')).toContain('- name: alice\n');
      ctx.edit('group_vars/all/admin.yml', (t) => t.replace(/  - name: alice\n(    .*\n)*/, ''), 'remove admin alice');
      expect(readFileSync(join(ctx.dir, 'group_vars/all/admin.yml'), 'utf8')).not.toContain('alice');
      ctx.runOk([], 'run without alice');
      const web = curl(ctx, '/alice-removed/', [...cert('alice'), '-u', `alice:${ALICE_PASSWORD}`]);
      expect(web.code, web.out).toBe(403);
      expect(sawPath(ctx, '/alice-removed/')).toEqual([]);
      for (const user of ['root', 'alice']) {
        expect(ssh(ctx, 'be1', user, L('alice_ed25519'), 'true').status, `${user} by key`).toBe(255);
        expect(ssh(ctx, 'be1', user, L('alice2_ed25519'), 'true', L('alice2_ed25519-cert.pub')).status, `${user} by certificate`).toBe(255);
      }
      // alice's account is locked and out of the admins group.
      expect(ctx.on('be1', 'id -nG alice; chage -l alice | grep "Account expires"').out).not.toContain('float-admins');
      // Positive control, same probe: bob is still in the group.
      expect(ctx.on('be1', 'id -nG bob').out).toContain('float-admins');
      // Positive controls, after the same run: bob, on the web and over SSH.
      expect(curl(ctx, '/bob-after/', cert('bob')).code).toBe(200);
      expect(ssh(ctx, 'be1', 'root', L('bob_ed25519'), 'id -un', L('bob_ed25519-cert.pub'))).toMatchObject({ status: 0, out: 'root\n' });
      expect(ssh(ctx, 'be1', 'bob', L('bob_ed25519'), 'id -un', L('bob_ed25519-cert.pub'))).toMatchObject({ status: 0, out: 'bob\n' });
    });
  },
};
