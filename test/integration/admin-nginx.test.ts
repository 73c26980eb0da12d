// Admin-only endpoints (enable_sso_proxy) on a real nginx on the loopback, with the
// float-infra-nginx templates rendered by Ansible and the admin CA's real
// certificates: no proof gets 403 and the backend sees nothing; an admin's
// certificate (and, where required, their own password: sha512-crypt, sha256-crypt,
// yescrypt and bcrypt hashes, as Debian's nginx checks them with crypt()) gets 200
// and the backend sees the admin's name, never the client's copy of the header nor
// the password; a certificate of another CA, a removed admin's certificate or
// another admin's password are refused; nothing is cached.
import { execFile, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCryptHash } from '../../src/config/admins.js';
import { ensureAdminCertificates, loadAdminCredentials, readAdminIndex } from '../../src/credentials/admin-ca.js';
import { makeVaultCodec } from '../../src/credentials/vault.js';
import { caContext, createCaCertificate, issueCertificate, newKeyPair, pkcs8Pem, signingKey } from '../../src/credentials/x509.js';
import { renderNginxRole, selfSignedCertificate, startLoopbackNginx, type LoopbackNginx } from '../helpers/nginx.js';
import { skipUnlessRequired } from '../helpers/prerequisites.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasNginx = spawnSync('nginx', ['-v']).status === 0;
const hasCrypt = spawnSync('python3', ['-c', 'import crypt']).status === 0;
const skip = skipUnlessRequired(
  'the admin endpoint tests',
  !isRoot ? 'not running as root' : !hasNginx ? 'nginx is not installed' : !hasCrypt ? "python3's crypt module is missing" : undefined,
);

/** A crypt hash of `password` by libcrypt (as mkpasswd makes them): `$6$`, `$5$`, `$y$` or `$2b$`. */
function cryptHash(password: string, method: '6' | '5' | 'y' | '2b'): string {
  const salt = { '6': '$6$saltsaltsalt$', '5': '$5$saltsaltsalt$', y: "$y$j9T$abcdefghijklmnop$", '2b': 'BLOWFISH' }[method];
  const code = salt === 'BLOWFISH' ? 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1024)))' : `import crypt,sys; print(crypt.crypt(sys.argv[1], ${JSON.stringify(salt)}))`;
  const r = spawnSync('python3', ['-W', 'ignore', '-c', code, password], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

const curl = (...args: string[]) =>
  new Promise<{ status: number; stdout: string; stderr: string }>((res) =>
    execFile('curl', ['-s', '-k', '--max-time', '5', '-D', '-', ...args], { encoding: 'utf8' }, (err, stdout, stderr) =>
      res({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    ),
  );
const statusOf = (out: string) => Number(/^HTTP\/[\d.]+ (\d{3})/.exec(out)?.[1] ?? 0);
const header = (out: string, name: string) =>
  out.split('\r\n').filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}: `)).map((l) => l.slice(name.length + 2));

describe.skipIf(skip !== undefined)('admin-only endpoints on a real nginx', () => {
  const dir = mkdtempSync(join(tmpdir(), 'float-admin-nginx-'));
  const creds = join(dir, 'credentials');
  const codec = makeVaultCodec('admin-nginx-test');
  const nginxes: LoopbackNginx[] = [];
  const log = () => nginxes.map((n) => n.log()).join('');
  let backend: Server | undefined;
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  let https = 0;
  let httpsPw = 0;
  const passwords: Record<string, string> = { alice: 'alice pw 6', frank: 'frank pw 5', dave: 'dave pw y', erin: 'erin pw 2b' };
  const hashes: Record<string, string> = {};
  /** Per admin: cert and key files for curl. */
  const dashboardDir = join(dir, 'dashboard');
  const files = (name: string) => ({ cert: join(dir, 'client', name, 'cert.pem'), key: join(dir, 'client', name, 'key.pem') });

  function saveClient(name: string, certPem: string, keyPem: string) {
    mkdirSync(join(dir, 'client', name), { recursive: true });
    writeFileSync(files(name).cert, certPem);
    writeFileSync(files(name).key, keyPem, { mode: 0o600 });
  }

  /** Renders the role's templates into sub/ for `list` and `mode`, starts nginx on the loopback; returns its HTTPS port. */
  async function startNginx(sub: string, adminDir: string, port: number, list: object[], mode: string): Promise<number> {
    for (const n of ['admin.example.com', 'www.example.com', 'dashboard.example.com']) selfSignedCertificate(join(sub, 'public'), n);
    const endpoint = { upstream: 'be_test', service: 'web', port, scheme: 'http', autoconfig: true, extra_nginx_config: '' };
    const rendered = renderNginxRole(sub, {
      float_nginx_admin_dir: adminDir,
      float_nginx_dashboard_dir: dashboardDir,
      float_nginx_admin_list: list,
      admin_auth: mode,
      float_http_upstreams: [{ name: 'be_test', targets: ['127.0.0.1'], port }],
      float_http_endpoints: {
        'admin.example.com': { '/': { ...endpoint, enable_sso_proxy: true }, '/public/': { ...endpoint, enable_sso_proxy: false } },
        'www.example.com': { '/': { ...endpoint, enable_sso_proxy: false } },
        // The built-in dashboard endpoint: files from dashboardDir, only the query API proxied.
        'dashboard.example.com': { '/': { ...endpoint, enable_sso_proxy: true, dashboard: true } },
      },
    });
    const nginx = await startLoopbackNginx(sub, rendered);
    nginxes.push(nginx);
    return nginx.https;
  }

  beforeAll(async () => {
    mkdirSync(join(dashboardDir, 'services'), { recursive: true });
    writeFileSync(join(dashboardDir, 'index.html'), '<!DOCTYPE html><title>float dashboard</title>\n');
    writeFileSync(join(dashboardDir, 'services', 'web.html'), '<!DOCTYPE html><title>web</title>\n');
    hashes.alice = cryptHash(passwords.alice, '6');
    hashes.frank = cryptHash(passwords.frank, '5');
    hashes.dave = cryptHash(passwords.dave, 'y');
    hashes.erin = cryptHash(passwords.erin, '2b');
    for (const h of Object.values(hashes)) expect(isCryptHash(h), h).toBe(true);
    // carol gets a certificate, then is removed: hers must be refused.
    const now = new Date();
    ensureAdminCertificates(creds, ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'], codec, now);
    for (const n of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) {
      const c = loadAdminCredentials(creds, n, codec);
      saveClient(n, c.certPem, c.keyPem);
    }
    const r = ensureAdminCertificates(creds, ['alice', 'bob', 'dave', 'erin', 'frank'], codec, now);
    expect(r.revoked).toEqual(['carol']);
    // A client certificate for "alice" from another CA (the internal CA's kind).
    const other = signingKey(newKeyPair().pkcs8);
    createCaCertificate(other, now, 'float internal CA');
    const k = newKeyPair();
    const forged = issueCertificate({ id: 'x/alice/client', kind: 'client', commonName: 'alice', dnsNames: [], ipAddresses: [], mode: 'client' }, k.spki, caContext(other, 'float internal CA'), now);
    saveClient('other-ca', forged.pem, pkcs8Pem(k.pkcs8));

    backend = createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      res.setHeader('Cache-Control', 'public, max-age=600');
      res.end(`hello ${req.headers['x-float-admin'] ?? 'nobody'}\n`);
    });
    await new Promise<void>((r) => backend!.listen(0, '127.0.0.1', r));
    const port = (backend.address() as AddressInfo).port;

    // What the role's tasks/admin.yml installs, from the same index.
    const adminDir = join(dir, 'float-admin');
    mkdirSync(join(adminDir, 'passwords'), { recursive: true });
    writeFileSync(join(adminDir, 'ca.pem'), readFileSync(join(creds, 'admin/ca.pem')));
    const index = readAdminIndex(creds);
    const list = Object.keys(index.admins).map((name) => ({ name, serial: index.admins[name].serial, certificate: true, password_required: name in hashes }));
    for (const [n, h] of Object.entries(hashes)) writeFileSync(join(adminDir, 'passwords', n), `${n}:${h}\n`);

    https = await startNginx(join(dir, 'cert-mode'), adminDir, port, list, '');
    // admin_auth: password, on a second nginx: no client certificate, any admin's own password.
    httpsPw = await startNginx(join(dir, 'password-mode'), adminDir, port, list.map((a) => ({ ...a, certificate: false })), 'password');
    writeFileSync(join(adminDir, 'passwords.all'), Object.entries(hashes).map(([n, h]) => `${n}:${h}\n`).join(''));
  }, 60_000);

  afterAll(() => {
    for (const n of nginxes) n.stop();
    backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A request to admin.example.com (or `host`) as `who` (a client certificate), with more curl arguments. */
  const as = (who: string | undefined, path: string, args: string[] = [], host = 'admin.example.com', port = https) =>
    curl('--resolve', `${host}:${port}:127.0.0.1`, ...(who ? ['--cert', files(who).cert, '--key', files(who).key] : []), ...args, `https://${host}:${port}${path}`);

  /** Requests the backend saw for `path`. */
  const hits = (path: string) => seen.filter((s) => s.url === path);

  it('without a certificate: 403, and the backend sees nothing (a forged header changes nothing)', async () => {
    const r = await as(undefined, '/anon', ['-H', 'X-Float-Admin: alice', '-u', `alice:${passwords.alice}`]);
    expect(statusOf(r.stdout), r.stdout + log()).toBe(403);
    expect(hits('/anon')).toEqual([]);
    // Positive controls: the same server's other endpoint, and another server, need no certificate.
    expect(statusOf((await as(undefined, '/public/x')).stdout)).toBe(200);
    expect(statusOf((await as(undefined, '/', [], 'www.example.com')).stdout)).toBe(200);
  });

  it("a certificate-only admin's certificate: 200, the backend sees the admin's name, not the client's header", async () => {
    const r = await as('bob', '/bob', ['-H', 'X-Float-Admin: alice', '-H', 'x-float-admin: root']);
    expect(statusOf(r.stdout), r.stdout + log()).toBe(200);
    expect(hits('/bob').map((h) => h.headers['x-float-admin'])).toEqual(['bob']);
    // Never cached, and said so.
    expect(header(r.stdout, 'Cache-Control')).toEqual(['no-store']);
    const again = await as('bob', '/bob');
    expect(statusOf(again.stdout)).toBe(200);
    expect(hits('/bob')).toHaveLength(2);
    // Positive control: the same backend's answers are cached on the server's other endpoint.
    for (let i = 0; i < 2; i++) expect(statusOf((await as(undefined, '/public/cached')).stdout)).toBe(200);
    expect(hits('/public/cached')).toHaveLength(1);
  });

  it('an admin with a password needs both: certificate alone 401, wrong or another admin\'s password 401, both 200', async () => {
    expect(statusOf((await as('alice', '/alice-1')).stdout)).toBe(401);
    expect(statusOf((await as('alice', '/alice-2', ['-u', 'alice:wrong'])).stdout)).toBe(401);
    expect(statusOf((await as('alice', '/alice-3', ['-u', `dave:${passwords.dave}`])).stdout)).toBe(401);
    // The password without the certificate: 403.
    expect(statusOf((await as(undefined, '/alice-4', ['-u', `alice:${passwords.alice}`])).stdout)).toBe(403);
    expect(seen.filter((s) => s.url.startsWith('/alice-'))).toEqual([]);
    const ok = await as('alice', '/alice-ok', ['-u', `alice:${passwords.alice}`]);
    expect(statusOf(ok.stdout), ok.stdout + log()).toBe(200);
    const h = hits('/alice-ok')[0].headers;
    expect(h['x-float-admin']).toBe('alice');
    // The password stays at the frontend.
    expect(h.authorization).toBeUndefined();
    // Positive control: the backend sees the header where nginx passes it on (the server's other endpoint).
    expect(statusOf((await as(undefined, '/public/authz', ['-u', `alice:${passwords.alice}`])).stdout)).toBe(200);
    expect(hits('/public/authz').map((x) => x.headers.authorization)).toEqual([`Basic ${Buffer.from(`alice:${passwords.alice}`).toString('base64')}`]);
  });

  it('sha256-crypt, yescrypt and bcrypt hashes work too', async () => {
    for (const n of ['frank', 'dave', 'erin']) {
      const r = await as(n, `/hash-${n}`, ['-u', `${n}:${passwords[n]}`]);
      expect(statusOf(r.stdout), `${n} ${hashes[n]}\n${r.stdout}${log()}`).toBe(200);
      expect(hits(`/hash-${n}`).map((x) => x.headers['x-float-admin'])).toEqual([n]);
      expect(statusOf((await as(n, `/hash-${n}-bad`, ['-u', `${n}:not-it`])).stdout)).toBe(401);
    }
  });

  it("a certificate of another CA naming an admin, and a removed admin's certificate: 403", async () => {
    const forged = await as('other-ca', '/forged', ['-u', `alice:${passwords.alice}`]);
    expect(statusOf(forged.stdout), forged.stdout + log()).toBe(403);
    const removed = await as('carol', '/removed');
    expect(statusOf(removed.stdout)).toBe(403);
    expect(hits('/forged')).toEqual([]);
    expect(hits('/removed')).toEqual([]);
    // carol's certificate is a real admin-CA certificate (it verifies): only its serial is no longer listed.
    const ca = new X509Certificate(readFileSync(join(creds, 'admin/ca.pem')));
    expect(new X509Certificate(readFileSync(files('carol').cert)).verify(ca.publicKey)).toBe(true);
    // Positive control, same moment: bob still gets in.
    expect(statusOf((await as('bob', '/removed-control')).stdout)).toBe(200);
  });

  it('admin_auth password: any admin with their own password, no certificate needed; 401 otherwise', async () => {
    const pw = (path: string, args: string[], who?: string) => as(who, path, args, 'admin.example.com', httpsPw);
    expect(statusOf((await pw('/pw-none', [])).stdout)).toBe(401);
    expect(statusOf((await pw('/pw-wrong', ['-u', 'alice:wrong'])).stdout)).toBe(401);
    // A certificate alone is nothing here.
    expect(statusOf((await pw('/pw-cert', [], 'bob')).stdout)).toBe(401);
    expect(hits('/pw-none').length + hits('/pw-wrong').length + hits('/pw-cert').length).toBe(0);
    const r = await pw('/pw-dave', ['-u', `dave:${passwords.dave}`, '-H', 'X-Float-Admin: alice']);
    expect(statusOf(r.stdout), r.stdout + log()).toBe(200);
    expect(hits('/pw-dave').map((h) => h.headers['x-float-admin'])).toEqual(['dave']);
    expect(hits('/pw-dave')[0].headers.authorization).toBeUndefined();
    // Positive control, same nginx: the header reaches the backend on the server's other endpoint.
    expect(statusOf((await pw('/public/pw-authz', ['-u', `dave:${passwords.dave}`])).stdout)).toBe(200);
    expect(hits('/public/pw-authz').map((x) => x.headers.authorization)).toEqual([`Basic ${Buffer.from(`dave:${passwords.dave}`).toString('base64')}`]);
    expect(header(r.stdout, 'Cache-Control')).toEqual(['no-store']);
  });

  it("the dashboard endpoint: the files and Prometheus' query API for admins only; nothing else of Prometheus", async () => {
    const dash = (who: string | undefined, path: string, args: string[] = []) => as(who, path, args, 'dashboard.example.com');
    // No certificate: 403 for the files and the API, and the backend sees nothing.
    expect(statusOf((await dash(undefined, '/')).stdout)).toBe(403);
    expect(statusOf((await dash(undefined, '/api/v1/query?query=up')).stdout)).toBe(403);
    expect(seen.filter((x) => x.url.startsWith('/api/'))).toEqual([]);
    // bob's certificate: the files from the dashboard directory (the backend is not asked)...
    const index = await dash('bob', '/');
    expect(statusOf(index.stdout), index.stdout + log()).toBe(200);
    expect(index.stdout).toContain('<title>float dashboard</title>');
    expect(header(index.stdout, 'Cache-Control')).toEqual(['no-store']);
    const page = await dash('bob', '/services/web.html');
    expect(statusOf(page.stdout)).toBe(200);
    expect(page.stdout).toContain('<title>web</title>');
    expect(seen.filter((x) => x.headers.host === 'dashboard.example.com' && !x.url.startsWith('/api/'))).toEqual([]);
    // ...and the query API, passed on with bob's name.
    const q = await dash('bob', '/api/v1/query?query=up');
    expect(statusOf(q.stdout), q.stdout + log()).toBe(200);
    expect(hits('/api/v1/query?query=up').map((h) => h.headers['x-float-admin'])).toEqual(['bob']);
    // Not the rest of Prometheus' API, nor any method but GET.
    expect(statusOf((await dash('bob', '/api/v1/label/__name__/values')).stdout)).toBe(404);
    expect(statusOf((await dash('bob', '/api/v1/query', ['-X', 'POST', '-d', 'query=up'])).stdout)).toBe(403);
    expect(seen.filter((x) => x.url.startsWith('/api/') && x.url !== '/api/v1/query?query=up')).toEqual([]);
  });
});
