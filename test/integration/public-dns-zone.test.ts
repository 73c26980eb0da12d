// The float-infra-dns role's templates, rendered by Ansible from the records float
// compiles for test/fixtures/frontend, checked by bind's own tools, then served by a
// real named on the loopback: every record `float dns` lists is answered as listed.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeContext } from '../../src/inventory/context.js';
import { publicDnsRecords, publicDnsVars } from '../../src/inventory/public-dns.js';
import { plan } from '../../src/plan.js';
import { renderRoleTemplates, type RenderTask } from '../helpers/render-role.js';
import { REPO_ROOT } from '../helpers/tree.js';

const FIXTURE = join(REPO_ROOT, 'test/fixtures/frontend/config.yml');

/** Renders the role's templates (role defaults, then `vars`), as the role would. */
function render(dir: string, vars: Record<string, unknown>, tasks: RenderTask[]): void {
  renderRoleTemplates('float-infra-dns', dir, vars, tasks);
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

describe('float-infra-dns templates with bind', () => {
  const p = plan(FIXTURE);
  const ctx = makeContext(p.model, p.schedule);
  const vars = publicDnsVars(ctx);
  const records = publicDnsRecords(ctx);
  const dir = mkdtempSync(join(tmpdir(), 'float-dns-'));
  const zoneDir = join(dir, 'zones');
  const manualDir = join(dir, 'manual');
  let named: ChildProcess | undefined;
  let port = 0;
  let namedLog = '';

  beforeAll(async () => {
    mkdirSync(zoneDir);
    mkdirSync(manualDir);
    // An operator's own zone, following the /etc/dns/manual convention.
    writeFileSync(join(manualDir, 'manual.test.conf'), `zone "manual.test" { type primary; file "${manualDir}/manual.test.zone"; };\n`);
    writeFileSync(
      join(manualDir, 'manual.test.zone'),
      '$TTL 300\n@ IN SOA ns1.example.com. hostmaster.manual.test. 1 3600 600 1209600 300\n@ IN NS ns1.example.com.\nwww IN A 192.0.2.7\n',
    );
    render(dir, { ...vars, float_dns_zone_dir: zoneDir, float_dns_manual_dir: manualDir }, [
      { src: 'named.conf.options.j2', dest: join(dir, 'named.conf.options') },
      { src: 'named.conf.local.j2', dest: join(dir, 'named.conf.local') },
      { src: 'manual-readme.conf.j2', dest: join(manualDir, 'README.conf') },
      { src: 'zone.j2', dest: `${zoneDir}/db.{{ item.zone }}`, loop: '{{ float_dns_zones }}' },
    ]);
  }, 120_000);

  afterAll(async () => {
    if (named && named.exitCode === null) {
      const exited = new Promise((r) => named!.once('exit', r));
      named.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('renders one zone file per domain_public zone, one line per record, that named-checkzone loads', () => {
    expect(vars.float_dns_zones.map((z) => z.zone)).toEqual(['example.com', 'example.org']);
    for (const z of vars.float_dns_zones) {
      const text = readFileSync(join(zoneDir, `db.${z.zone}`), 'utf8');
      const lines = text.split('\n').filter((l) => l && !l.startsWith(';'));
      expect(lines).toHaveLength(z.records.length);
      expect(lines[0]).toBe(`${z.zone}.\t3600\tIN\tSOA\tns1.${z.zone}. hostmaster.${z.zone}. ${z.serial} 3600 600 1209600 300\t; start of authority of ${z.zone}`);
      const r = spawnSync('named-checkzone', [z.zone, join(zoneDir, `db.${z.zone}`)], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).toContain(`zone ${z.zone}/IN: loaded serial ${z.serial}`);
      expect(r.status, r.stdout + r.stderr).toBe(0);
    }
  });

  it('renders an authoritative-only named.conf.options that named-checkconf accepts', () => {
    const opts = join(dir, 'named.conf.options');
    const text = readFileSync(opts, 'utf8');
    expect(text).toContain('recursion no;');
    expect(text).toContain('listen-on port 53 { any; };');
    expect(text).toContain('listen-on-v6 port 53 { any; };');
    // Response rate limiting (float_dns_rate_limit, default 20 a second).
    expect(text).toMatch(/rate-limit \{\n\s*responses-per-second 20;\n\s*\};/);
    const r = spawnSync('named-checkconf', [opts], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('float_dns_rate_limit: 0 turns response rate limiting off', () => {
    const d = mkdtempSync(join(tmpdir(), 'float-dns-rrl-'));
    try {
      render(d, { float_dns_rate_limit: 0 }, [{ src: 'named.conf.options.j2', dest: join(d, 'named.conf.options') }]);
      expect(readFileSync(join(d, 'named.conf.options'), 'utf8')).not.toContain('rate-limit');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('hostile names stay one literal owner name, and data or comments cannot add a record', () => {
    const d = mkdtempSync(join(tmpdir(), 'float-dns-hostile-'));
    try {
      const soa = { name: 'example.com.', ttl: 3600, type: 'SOA', data: 'ns1.example.com. hostmaster.example.com. 1 3600 600 1209600 300', purpose: 'soa' };
      const ns = { name: 'example.com.', ttl: 3600, type: 'NS', data: 'ns1.example.com.', purpose: 'ns' };
      const nsA = { name: 'ns1.example.com.', ttl: 3600, type: 'A', data: '192.0.2.1', purpose: 'ns address' };
      const zone = {
        zone: 'example.com',
        serial: 1,
        records: [
          soa,
          ns,
          nsA,
          // A name that tries to end the line and add a record of its own, and a purpose with a line break.
          { name: 'evil.example.com. 60 IN A 203.0.113.66 ; x.example.com.', ttl: 300, type: 'A', data: '192.0.2.2', purpose: 'p\nevil2.example.com. 60 IN A 203.0.113.67' },
        ],
      };
      render(d, { float_dns_zones: [zone] }, [{ src: 'zone.j2', dest: join(d, 'db.example.com'), loop: '{{ float_dns_zones }}' }]);
      const text = readFileSync(join(d, 'db.example.com'), 'utf8');
      expect(text.split('\n').filter((l) => l && !l.startsWith(';'))).toHaveLength(4);
      // Loaded as a zone (check-names relaxed: the odd name is legal DNS, only not a host name),
      // the odd name is one owner with the intended address; the injected ones do not exist.
      const r = spawnSync('named-checkzone', ['-k', 'ignore', '-D', '-o', '-', 'example.com', join(d, 'db.example.com')], { encoding: 'utf8' });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      const dump = r.stdout.split('\n').filter((l) => /\sA\s/.test(l));
      expect(dump).toHaveLength(2);
      expect(dump.join('\n')).toMatch(/^evil\.example\.com\.\\03260\\032IN\\032A\\032203\.0\.113\.66\\032\\;\\032x\.example\.com\.\s+300\s+IN\s+A\s+192\.0\.2\.2$/m);
      expect(dump.join('\n')).not.toMatch(/203\.0\.113\.6[67]$/m);
      // The role's own validation (named-checkzone -k fail, as named loads a primary zone) refuses it: never installed.
      expect(spawnSync('named-checkzone', ['-k', 'fail', '-q', 'example.com', join(d, 'db.example.com')]).status).not.toBe(0);
      // Record data with a line break is refused while rendering.
      const broken = { ...zone, records: [soa, ns, { ...nsA, data: '192.0.2.1\nevil.example.com. 60 IN A 203.0.113.66' }] };
      expect(() => render(d, { float_dns_zones: [broken] }, [{ src: 'zone.j2', dest: join(d, 'db2'), loop: '{{ float_dns_zones }}' }])).toThrow(
        /zone file data .* refused/,
      );
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('declares float zones and includes the manual fragments: named-checkconf -z loads them all', () => {
    const local = readFileSync(join(dir, 'named.conf.local'), 'utf8');
    expect(local).toContain(`zone "example.com" {\n\ttype primary;\n\tfile "${zoneDir}/db.example.com";\n};`);
    expect(local).toContain(`include "${manualDir}/*.conf";`);
    const conf = join(dir, 'check.conf');
    writeFileSync(conf, `options { directory "${dir}"; };\ninclude "${join(dir, 'named.conf.local')}";\n`);
    const r = spawnSync('named-checkconf', ['-z', conf], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    for (const z of vars.float_dns_zones) expect(r.stdout).toContain(`zone ${z.zone}/IN: loaded serial ${z.serial}`);
    expect(r.stdout).toContain('zone manual.test/IN: loaded serial 1');
  });

  it('a real named serving the rendered zones answers every record float dns lists, and the manual zone', async () => {
    port = await freeUdpPort();
    const conf = join(dir, 'serve.conf');
    writeFileSync(
      conf,
      [
        'options {',
        `  directory "${dir}"; pid-file "${dir}/named.pid"; session-keyfile "${dir}/session.key"; managed-keys-directory "${dir}";`,
        `  listen-on port ${port} { 127.0.0.1; }; listen-on-v6 { none; };`,
        '  recursion no; dnssec-validation no;',
        '};',
        'controls { };',
        `include "${join(dir, 'named.conf.local')}";`,
        '',
      ].join('\n'),
    );
    named = spawn('/usr/sbin/named', ['-g', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    named.stdout!.on('data', (d) => (namedLog += d));
    named.stderr!.on('data', (d) => (namedLog += d));
    const dig = (name: string, type: string) =>
      execFileSync('dig', ['@127.0.0.1', '-p', String(port), '+norecurse', '+short', '+time=2', '+tries=3', name, type], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .sort();
    for (let i = 0; i < 300 && !namedLog.includes('running'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(namedLog).toContain('running');

    const expected = new Map<string, string[]>();
    for (const r of records) {
      const k = `${r.fqdn} ${r.type}`;
      expected.set(k, [...(expected.get(k) ?? []), r.value]);
    }
    for (const [k, values] of expected) {
      const [name, type] = k.split(' ');
      expect(dig(name, type), k).toEqual([...values].sort());
    }
    expect(dig('www.manual.test', 'A')).toEqual(['192.0.2.7']);
    // Names float does not serve (skip_dns, outside every zone) have no answer.
    expect(dig('secret.example.com', 'A')).toEqual([]);
  }, 90_000);
});
