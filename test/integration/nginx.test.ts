// The float-infra-nginx role's templates, rendered by Ansible: the fixture's frontend
// passes `nginx -t` (through the role's own check script), and a real nginx on the
// loopback, fed hostile strings from the configuration, serves them literally (no
// injected directive), sends HSTS on HTTPS only, offers only forward-secret AEAD
// ciphers on TLS 1.2, and never caches a response to a request carrying Authorization.
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frontendVars } from '../../src/inventory/derive.js';
import { makeContext } from '../../src/inventory/context.js';
import { plan } from '../../src/plan.js';
import { renderNginxRole, selfSignedCertificate, startLoopbackNginx, type LoopbackNginx } from '../helpers/nginx.js';
import { REPO_ROOT } from '../helpers/tree.js';
import { skipUnlessRequired } from '../helpers/prerequisites.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasNginx = spawnSync('nginx', ['-v']).status === 0;
const skipNginx = skipUnlessRequired('the nginx template tests', !isRoot ? 'not running as root' : !hasNginx ? 'nginx is not installed' : undefined);
const FIXTURE = join(REPO_ROOT, 'test/fixtures/frontend/config.yml');

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'float-nginx-'));
  dirs.push(d);
  return d;
};

/** curl, asynchronously: the test's own backend answers from this process. */
const curl = (...args: string[]) =>
  new Promise<{ status: number; stdout: string; stderr: string }>((res) =>
    execFile('curl', ['-s', '--max-time', '5', ...args], { encoding: 'utf8' }, (err, stdout, stderr) =>
      res({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    ),
  );

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(skipNginx !== undefined)('float-infra-nginx templates', () => {
  it("the fixture's frontend passes nginx -t through float-nginx-check; a broken candidate is refused, naming the file", () => {
    const p = plan(FIXTURE);
    const fv = frontendVars(makeContext(p.model, p.schedule));
    const dir = tmp();
    const names = Object.keys(fv.float_http_endpoints as Record<string, unknown>);
    for (const n of names) selfSignedCertificate(join(dir, 'public'), n);
    selfSignedCertificate(join(dir, 'x509/frontend'), 'client');
    writeFileSync(join(dir, 'x509/frontend/client/cert.pem'), readFileSync(join(dir, 'x509/frontend/client/fullchain.pem')));
    writeFileSync(join(dir, 'x509/frontend/client/private_key.pem'), readFileSync(join(dir, 'x509/frontend/client/privkey.pem')));
    writeFileSync(join(dir, 'x509/frontend/ca.pem'), readFileSync(join(dir, 'x509/frontend/client/fullchain.pem')));
    // The instance names resolve on a frontend (/etc/hosts), not here: the loopback instead.
    const local = (us: unknown) => (us as Array<{ targets: string[] }>).map((u) => ({ ...u, targets: u.targets.map(() => '127.0.0.1') }));
    // The admin CA's certificate nginx checks admin client certificates against (the built-in admin endpoints).
    mkdirSync(join(dir, 'float-admin'), { recursive: true });
    writeFileSync(join(dir, 'float-admin/ca.pem'), readFileSync(join(dir, 'x509/frontend/client/fullchain.pem')));
    const { main, float, check } = renderNginxRole(dir, {
      ...(fv as unknown as Record<string, unknown>),
      float_nginx_admin_dir: join(dir, 'float-admin'),
      float_http_upstreams: local(fv.float_http_upstreams),
      float_tls_passthrough: { ...(fv.float_tls_passthrough as object), upstreams: local((fv.float_tls_passthrough as { upstreams: unknown }).upstreams) },
    });
    const text = readFileSync(float, 'utf8');
    expect(text).toContain('proxy_cache_bypass $http_authorization;');
    expect(text).toContain('proxy_no_cache $http_authorization;');
    expect(readFileSync(main, 'utf8')).toMatch(/ssl_protocols TLSv1\.2 TLSv1\.3;\n\s+# .*\n\s+ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:/);
    // The installed files as the role checks them: each one as a candidate in its place.
    for (const f of [main, float]) {
      const r = spawnSync('sh', [check, f, f], { encoding: 'utf8' });
      expect(r.status, r.stdout + r.stderr).toBe(0);
    }
    const bad = join(dir, 'candidate');
    writeFileSync(bad, text.replace('proxy_no_cache $http_authorization;', 'proxy_no_cache;'));
    const r = spawnSync('sh', [check, float, bad], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`invalid number of arguments in "proxy_no_cache" directive in ${float}:\\d+`));
    expect(r.stderr).not.toContain(bad);
  });

  describe('a real nginx with hostile strings', () => {
    let nginx: LoopbackNginx | undefined;
    let backend: Server | undefined;
    let http = 0;
    let https = 0;
    let hits = 0;
    const headerValue = 'a"; return 302 http://evil.test/; add_header X-Evil "1';
    const dollarValue = 'costs $5 ${x} \\ and {braces}; # not a comment';
    const userAgent = 'bad"; } server { listen 1; } map x y { "x';
    const hostilePath = '/p"; return 302 /evil; #';

    beforeAll(async () => {
      backend = createServer((req, res) => {
        hits++;
        res.setHeader('Cache-Control', 'public, max-age=600');
        res.end(`response ${hits} to ${req.url}`);
      });
      await new Promise<void>((r) => backend!.listen(0, '127.0.0.1', r));
      const port = (backend.address() as AddressInfo).port;
      const dir = tmp();
      selfSignedCertificate(join(dir, 'public'), 'www.example.com');
      const endpoint = { upstream: 'be_test', service: 'web', port, scheme: 'http', autoconfig: true, extra_nginx_config: '' };
      const { main, float } = renderNginxRole(dir, {
        float_http_upstreams: [{ name: 'be_test', targets: ['127.0.0.1'], port }],
        float_http_endpoints: { 'www.example.com': { '/': endpoint } },
        float_http_plain_endpoints: { 'plain.example.com': { [hostilePath]: endpoint } },
        nginx_global_custom_headers: { 'X-Test': headerValue, 'X-Dollar': dollarValue },
        nginx_blocked_user_agents: [userAgent],
        nginx_blocked_urls: ['plain.example.com/blocked"; return 302 /evil; #'],
      });
      nginx = await startLoopbackNginx(dir, { main, float });
      ({ http, https } = nginx);
    }, 60_000);

    afterAll(() => {
      nginx?.stop();
      backend?.close();
    });

    const plain = (path: string, ...args: string[]) =>
      curl('-D', '-', '-H', 'Host: plain.example.com', ...args, `http://127.0.0.1:${http}${path}`);
    const secure = (path: string, ...args: string[]) =>
      curl('-k', '-D', '-', '--resolve', `www.example.com:${https}:127.0.0.1`, ...args, `https://www.example.com:${https}${path}`);
    const header = (out: string, name: string) =>
      out.split('\r\n').filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}: `)).map((l) => l.slice(name.length + 2));

    it('header values are sent literally, with no injected directive', async () => {
      const r = await plain('/other');
      expect(r.stdout, nginx!.log()).toMatch(/^HTTP\/1.1 301/);
      expect(header(r.stdout, 'X-Test')).toEqual([headerValue]);
      expect(header(r.stdout, 'X-Dollar')).toEqual([dollarValue]);
      expect(header(r.stdout, 'X-Evil')).toEqual([]);
      // Plain HTTP: no HSTS.
      expect(header(r.stdout, 'Strict-Transport-Security')).toEqual([]);
    });

    it('a hostile location path is a literal prefix, proxied to its backend (no injected redirect)', async () => {
      const r = await plain(encodeURI(hostilePath).replace(/#/g, '%23'));
      expect(r.stdout, nginx!.log()).toMatch(/^HTTP\/1.1 200/);
      expect(r.stdout).toContain('response');
      expect(header(r.stdout, 'Location')).toEqual([]);
    });

    it('the hostile user-agent pattern and blocked URL match literally', async () => {
      expect((await plain('/other', '-A', `xx ${userAgent} yy`)).stdout).toMatch(/^HTTP\/1.1 403/);
      expect((await plain('/other', '-A', 'curl')).stdout).toMatch(/^HTTP\/1.1 301/);
      expect((await plain('/blocked%22;%20return%20302%20/evil;%20%23')).stdout).toMatch(/^HTTP\/1.1 451/);
      expect((await plain('/blocked')).stdout).toMatch(/^HTTP\/1.1 301/);
    });

    it('HTTPS sends HSTS; TLS 1.2 offers forward-secret AEAD ciphers only', async () => {
      const r = await secure('/page');
      expect(r.stdout, r.stderr + nginx!.log()).toMatch(/^HTTP\/1.1 200/);
      expect(header(r.stdout, 'Strict-Transport-Security')).toEqual(['max-age=31536000']);
      const tls = (cipher: string) =>
        spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${https}`, '-servername', 'www.example.com', '-tls1_2', '-cipher', cipher], { input: '', encoding: 'utf8' });
      // Positive control: same client, same server, an AEAD suite.
      expect(tls('ECDHE-ECDSA-AES128-GCM-SHA256').stdout).toMatch(/Cipher is ECDHE-ECDSA-AES128-GCM-SHA256/);
      const cbc = tls('ECDHE-ECDSA-AES128-SHA');
      expect(cbc.status).not.toBe(0);
      expect(cbc.stdout + cbc.stderr).toMatch(/handshake failure|no shared cipher/);
    });

    it('a response to a request with Authorization is neither served from the cache nor stored', async () => {
      const body = (r: Awaited<ReturnType<typeof secure>>) => r.stdout.split('\r\n\r\n').slice(1).join('\r\n\r\n');
      const withAuth = await secure('/cached', '-H', 'Authorization: Bearer secret');
      expect(header(withAuth.stdout, 'X-Cache-Status')).toEqual(['BYPASS']);
      // Anonymous requests after it do not get the authorized response...
      const anon = await secure('/cached');
      expect(body(anon)).not.toBe(body(withAuth));
      expect(header(anon.stdout, 'X-Cache-Status')).toEqual(['MISS']);
      // ...while the cache itself works (positive control): the anonymous one is cached.
      const again = await secure('/cached');
      expect(header(again.stdout, 'X-Cache-Status')).toEqual(['HIT']);
      expect(body(again)).toBe(body(anon));
      // And an authorized request is not answered from the cache either.
      const auth2 = await secure('/cached', '-H', 'Authorization: Bearer other');
      expect(header(auth2.stdout, 'X-Cache-Status')).toEqual(['BYPASS']);
      expect(body(auth2)).not.toBe(body(again));
    });
  });
});
