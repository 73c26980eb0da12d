// The float-infra-haproxy role's templates, rendered by Ansible from the TCP
// endpoints float compiles, checked by `haproxy -c`; then a real haproxy on the
// loopback forwards to a live backend with PROXY v2, skipping a dead one.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { frontendVars } from '../../src/inventory/derive.js';
import { makeContext } from '../../src/inventory/context.js';
import { plan } from '../../src/plan.js';
import { skipUnlessRequired } from '../helpers/prerequisites.js';
import { renderRoleTemplates } from '../helpers/render-role.js';
import { REPO_ROOT } from '../helpers/tree.js';

const FIXTURE = join(REPO_ROOT, 'test/fixtures/frontend/config.yml');

/** Renders the role's templates into dir (role defaults, then `vars`). */
function render(dir: string, vars: Record<string, unknown>): { cfg: string; nft: string } {
  renderRoleTemplates('float-infra-haproxy', dir, vars, [
    { src: 'haproxy.cfg.j2', dest: join(dir, 'haproxy.cfg') },
    { src: 'float-haproxy.nft.j2', dest: join(dir, 'float-haproxy.nft') },
  ]);
  return { cfg: readFileSync(join(dir, 'haproxy.cfg'), 'utf8'), nft: readFileSync(join(dir, 'float-haproxy.nft'), 'utf8') };
}

const check = (cfg: string) => spawnSync('haproxy', ['-c', '-f', cfg], { encoding: 'utf8' });
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'float-haproxy-'));
  dirs.push(d);
  return d;
};

describe('float-infra-haproxy templates', () => {
  let proxy: ChildProcess | undefined;
  let backend: Server | undefined;
  afterAll(() => {
    proxy?.kill('SIGTERM');
    backend?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('one listener per TCP endpoint, health-checked servers, PROXY v2 where asked; haproxy -c accepts it', () => {
    const p = plan(FIXTURE);
    const tcp = frontendVars(makeContext(p.model, p.schedule)).float_tcp_endpoints;
    const dir = tmp();
    const { cfg, nft } = render(dir, { float_tcp_endpoints: tcp });
    const sections = cfg.split(/\n(?=\S)/).filter((s) => s.startsWith('listen '));
    expect(sections).toEqual([
      [
        "listen 'tcp-15432-db'",
        "\tbind ':::15432' v4v6",
        "\tserver 'be1.db.internal.example.com' 'be1.db.internal.example.com:5432' check send-proxy-v2",
        "\tserver 'be2.db.internal.example.com' 'be2.db.internal.example.com:5432' check send-proxy-v2",
        '',
      ].join('\n'),
      [
        "listen 'tcp-6379-db'",
        "\tbind ':::6379' v4v6",
        "\tserver 'be1.db.internal.example.com' 'be1.db.internal.example.com:6379' check",
        "\tserver 'be2.db.internal.example.com' 'be2.db.internal.example.com:6379' check",
        '',
      ].join('\n'),
    ]);
    expect(cfg).toContain('\tmode tcp\n');
    expect(cfg).toContain("\n# db: pg\nlisten 'tcp-15432-db'\n");
    expect(nft.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([
      'add rule inet float input tcp dport 15432 accept comment "db pg"',
      'add rule inet float input tcp dport 6379 accept comment "db redis"',
    ]);
    // The instance names do not resolve here: those servers start disabled, the file is valid.
    const r = check(join(dir, 'haproxy.cfg'));
    expect(r.stdout + r.stderr).toContain('Configuration file is valid');
    expect(r.status).toBe(0);
  });

  it('with no TCP endpoint: a valid configuration without listeners, and an empty drop-in', () => {
    const dir = tmp();
    const { cfg, nft } = render(dir, { float_tcp_endpoints: [] });
    expect(cfg).not.toMatch(/^listen /m);
    expect(nft.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([]);
    const r = check(join(dir, 'haproxy.cfg'));
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('hostile names stay one quoted word for haproxy and an inert comment for nft; a line break is refused', () => {
    const dir = tmp();
    const hostile = {
      name: 'x"; } add rule inet float input accept; #',
      service: 'db',
      port: 5432,
      public_port: 15432,
      use_proxy_protocol: false,
      targets: ["be1.db.internal.example.com' send-proxy backup 'x"],
    };
    const { cfg, nft } = render(dir, { float_tcp_endpoints: [hostile] });
    // One server line whose name and address are each one quoted word: no option injected.
    expect(cfg).toContain(
      "\tserver 'be1.db.internal.example.com'\\'' send-proxy backup '\\''x' 'be1.db.internal.example.com'\\'' send-proxy backup '\\''x:5432' check\n",
    );
    // haproxy reads it as one name: refused (a server name cannot hold spaces or quotes), so never installed.
    const r = check(join(dir, 'haproxy.cfg'));
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/character ''' is not permitted in server name/);
    // The nft drop-in: the comment is sanitized, the rule is the only one, and nft parses it.
    expect(nft.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([
      'add rule inet float input tcp dport 15432 accept comment "db x__ _ add rule inet float input accept_ _"',
    ]);
    writeFileSync(join(dir, 'check.nft'), `table inet float {\n  chain input {\n    type filter hook input priority filter; policy drop;\n  }\n}\ninclude "${join(dir, 'float-haproxy.nft')}"\n`);
    // Skipped without nft, saying so; a failure instead under FLOAT_E2E_REQUIRED=1.
    if (skipUnlessRequired('the nft check of the haproxy drop-in', spawnSync('nft', ['--version']).status === 0 ? undefined : 'nft is not installed') === undefined) {
      const n = spawnSync('nft', ['-c', '-f', join(dir, 'check.nft')], { encoding: 'utf8' });
      expect(n.status, n.stderr).toBe(0);
    }
    // A line break in a name is refused while rendering.
    expect(() => render(tmp(), { float_tcp_endpoints: [{ ...hostile, name: 'pg\nlisten evil', targets: ['be1'] }] })).toThrow(/control character/);
  });

  it('a real haproxy forwards with PROXY v2 to the live backend and skips the dead one', async () => {
    // Backend: reads the PROXY v2 header, then answers the payload upper-cased.
    const SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');
    const headers: Buffer[] = [];
    backend = createServer((sock) => {
      let buf = Buffer.alloc(0);
      let done = false;
      sock.on('error', () => {});
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (done || buf.length < 16) return;
        const len = 16 + buf.readUInt16BE(14);
        if (!buf.subarray(0, 12).equals(SIG) || buf.length <= len) return;
        done = true;
        headers.push(buf.subarray(0, len));
        sock.end(buf.subarray(len).toString().toUpperCase());
      });
    });
    await new Promise<void>((res) => backend!.listen(0, '127.0.0.1', res));
    const port = (backend.address() as AddressInfo).port;
    const free = await new Promise<number>((res) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => res(p));
      });
    });

    const dir = tmp();
    render(dir, {
      float_haproxy_bind_address: '127.0.0.1',
      float_haproxy_check_interval: '100ms',
      float_haproxy_check_fall: 1,
      float_haproxy_check_rise: 1,
      // 127.0.0.2 is loopback too, with nothing listening on the port: a dead backend.
      float_tcp_endpoints: [{ name: 't', service: 'svc', port, public_port: free, use_proxy_protocol: true, targets: ['127.0.0.1', '127.0.0.2'] }],
    });
    // The listeners as rendered; the stats socket moved into the test directory.
    const cfg = readFileSync(join(dir, 'haproxy.cfg'), 'utf8').replace('/run/haproxy/admin.sock', join(dir, 'admin.sock'));
    writeFileSync(join(dir, 'run.cfg'), cfg);
    let log = '';
    proxy = spawn('haproxy', ['-db', '-f', join(dir, 'run.cfg')], { stdio: ['ignore', 'pipe', 'pipe'] });
    proxy.stdout!.on('data', (d) => (log += d));
    proxy.stderr!.on('data', (d) => (log += d));

    const ask = (msg: string) =>
      new Promise<string>((res) => {
        let out = '';
        const c = connect(free, '127.0.0.1', () => c.write(msg));
        c.on('data', (d) => (out += d));
        c.on('close', () => res(out));
        c.on('error', () => res(out));
        c.setTimeout(2000, () => c.destroy());
      });
    // Wait until haproxy listens and its checks have marked 127.0.0.2 down.
    for (let i = 0; i < 100 && !/127\.0\.0\.2 is DOWN/.test(log); i++) await new Promise((r) => setTimeout(r, 100));
    expect(log).toMatch(/127\.0\.0\.2 is DOWN/);
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await ask(`hello ${i}`));
    expect(answers).toEqual([0, 1, 2, 3, 4, 5].map((i) => `HELLO ${i}`));
    // Every forwarded connection (and health check) began with a PROXY v2 header from 127.0.0.1.
    const proxied = headers.filter((h) => h[13] === 0x11); // TCP over IPv4 (checks send LOCAL, family 0)
    expect(proxied.length).toBeGreaterThanOrEqual(6);
    for (const h of proxied) expect([...h.subarray(16, 20)]).toEqual([127, 0, 0, 1]);
  }, 30_000);
});
