// The admin dashboard rendered for the example configurations and opened, page by
// page, in headless Chromium: no console errors, no exceptions, no failed requests,
// every link resolves inside the site, the service and host tables match the
// schedule, the graph has a node per service and an edge per declared dependency,
// and hostile strings from the configuration show up as text, never as markup.
// Screenshots of the main pages go to os.tmpdir()/float-dashboard-artifacts/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderDashboard } from '../../src/dashboard/site.js';
import { writeSite } from '../../src/dashboard/write.js';
import { makeContext } from '../../src/inventory/context.js';
import { publicDnsRecords } from '../../src/inventory/public-dns.js';
import { plan, type Plan } from '../../src/plan.js';
import { Browser, chromiumMissing } from '../helpers/chromium.js';
import { startPrometheus, prometheusMissing, type TestPrometheus } from '../helpers/prometheus.js';
import { serveSite } from '../helpers/static-server.js';
import { REPO_ROOT, writeTree } from '../helpers/tree.js';

const ARTIFACTS = join(tmpdir(), 'float-dashboard-artifacts');
const skip = chromiumMissing();
const required = process.env.FLOAT_E2E_REQUIRED === '1';
if (skip && required) throw new Error(`FLOAT_E2E_REQUIRED=1 but ${skip}`);

const HOSTILE = `<script>alert("x")</script><img src=x onerror=alert(1)>'"&amp;`;

/** A configuration with declared dependencies (within a service, across services, to an unknown one) and hostile strings. */
function hostileConfig(): string {
  return writeTree(
    {
      'config.yml': 'plugin: float\n',
      'group_vars/all.yml': 'domain: infra.example.com\ndomain_public: [example.com]\nnet_overlays:\n  - name: vpn\n    network: 10.240.0.0/24\n',
      'hosts.yml': [
        'hosts:',
        '  fe1:',
        '    ips: [10.0.0.1]',
        '    public_ips: [192.0.2.1]',
        '    groups: [frontend]',
        '  be1:',
        '    ips: [10.0.0.2]',
        '    ip_vpn: 10.240.0.2',
        '    groups: [backend]',
        '  be2:',
        '    ips: [10.0.0.3]',
        '    ip_vpn: 10.240.0.3',
        '    groups: [backend]',
        '',
      ].join('\n'),
      'services.yml': `include:
  - ${JSON.stringify(join(REPO_ROOT, 'services.default.yml'))}
web:
  scheduling_group: backend
  num_instances: 2
  master_election: true
  service_credentials:
    - name: web
  containers:
    - name: app
      image: localhost/busybox:latest
      port: 8080
    - name: cache
      image: localhost/busybox:latest
      port: 8081
  public_endpoints:
    - name: www
      port: 8080
      scheme: http
  datasets:
    - name: uploads
      path: /var/lib/web/uploads
  annotations:
    summary: ${JSON.stringify(HOSTILE)}
    owner: ${JSON.stringify('</td></tr><script>alert(2)</script>')}
    dependencies:
      - client: app
        server: cache
      - client: app
        server: db/postgres
      - client: app
        server: ghost/thing
db:
  scheduling_group: backend
  num_instances: 1
  containers:
    - name: postgres
      image: localhost/busybox:latest
      port: 5432
  annotations:
    summary: database
    dependencies:
      - client: postgres
        server: web/app
`,
    },
    'float-dashboard-hostile-',
  );
}

interface Case {
  name: string;
  config: string;
}

function cases(): Case[] {
  const out: Case[] = [];
  const demo = mkdtempSync(join(tmpdir(), 'float-dashboard-demo-'));
  rmSync(demo, { recursive: true });
  const ex = join(REPO_ROOT, 'examples/demo');
  const r = spawnSync(
    process.execPath,
    [
      join(REPO_ROOT, 'bin/float.mjs'),
      'create-env',
      demo,
      '--local',
      '--num-hosts',
      '3',
      '--services',
      join(ex, 'services.yml'),
      '--passwords',
      join(ex, 'passwords.yml'),
      '--playbook',
      join(ex, 'site.yml'),
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`create-env failed: ${r.stderr}`);
  out.push({ name: 'examples-demo', config: join(demo, 'config.yml') });
  const ref = join(REPO_ROOT, 'test/fixtures/reference');
  // my-prober is the reference's fragment of a larger example: it does not load alone.
  for (const n of readdirSync(ref).sort()) if (n !== 'my-prober') out.push({ name: `reference-${n}`, config: join(ref, n, 'config.yml') });
  out.push({ name: 'hostile-and-dependencies', config: join(hostileConfig(), 'config.yml') });
  return out;
}

function htmlPages(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith('.html')) out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

const PAGE_FACTS = `(() => {
  const links = [...document.querySelectorAll('a')].map((a) => {
    const h = a.getAttribute('href');
    return h === null ? null : new URL(h, location.href).href;
  }).filter((h) => h !== null);
  const assets = [...document.querySelectorAll('link[rel=stylesheet], link[rel=icon]:not([href="data:,"]), script[src], img[src]')].map((e) => e.href || e.src);
  const rows = (sel) => [...document.querySelectorAll(sel)].map((tr) => ({
    service: tr.getAttribute('data-service'), host: tr.getAttribute('data-host'),
    links: [...tr.querySelectorAll('td:nth-child(2) a, td:nth-child(3) a')].map((a) => a.textContent),
    first: tr.querySelector('td') ? tr.querySelector('td').textContent : '',
    second: tr.querySelector('td:nth-child(2)') ? tr.querySelector('td:nth-child(2)').textContent : '',
  }));
  return {
    title: document.title,
    text: document.body.innerText,
    scripts: [...document.querySelectorAll('script')].map((s) => s.getAttribute('src')),
    imgs: document.querySelectorAll('img').length,
    links, assets,
    serviceRows: rows('#service-table tbody tr'),
    hostRows: rows('#host-table tbody tr'),
    instanceRows: [...document.querySelectorAll('#instances tbody tr')].map((tr) => tr.getAttribute('data-host')),
    hostServiceRows: [...document.querySelectorAll('#services tbody tr')].map((tr) => tr.getAttribute('data-service')),
    nodes: [...document.querySelectorAll('#dependency-graph .node.service')].map((g) => g.getAttribute('data-service')),
    external: [...document.querySelectorAll('#dependency-graph .node.external')].map((g) => g.getAttribute('data-service')),
    declared: [...document.querySelectorAll('#dependency-graph path.edge.declared')].map((p) => p.getAttribute('data-from') + '>' + p.getAttribute('data-to')),
    dnsRows: [...document.querySelectorAll('#dns-table tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
    states: Object.fromEntries([...document.querySelectorAll('.state[data-service][data-host]')].map((e) => [e.getAttribute('data-service') + '@' + e.getAttribute('data-host'), e.textContent])),
    alerts: [...document.querySelectorAll('#alerts li')].map((li) => li.textContent),
    alertsHidden: document.getElementById('alerts').hidden,
    live: document.getElementById('live-status').hidden ? null : document.getElementById('live-status').textContent,
  };
})()`;

type Facts = {
  title: string;
  text: string;
  scripts: (string | null)[];
  imgs: number;
  links: string[];
  assets: string[];
  serviceRows: { service: string; host: string; links: string[]; first: string }[];
  hostRows: { service: string; host: string; links: string[]; first: string; second: string }[];
  instanceRows: string[];
  hostServiceRows: string[];
  nodes: string[];
  external: string[];
  declared: string[];
  dnsRows: string[][];
  states: Record<string, string>;
  alerts: string[];
  alertsHidden: boolean;
  live: string | null;
};

describe.skipIf(skip !== undefined)('the dashboard in headless Chromium', () => {
  let browser: Browser;
  const all = cases();
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await Browser.launch();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it.each(all.map((c) => [c.name, c] as const))('%s: every page loads cleanly, links resolve, tables match the schedule', async (_n, c) => {
    const p: Plan = plan(c.config);
    const site = mkdtempSync(join(tmpdir(), 'float-dashboard-site-'));
    rmSync(site, { recursive: true });
    writeSite(renderDashboard(p.model, p.schedule), site);
    const srv = await serveSite(site);
    try {
      const pages = htmlPages(site);
      const services = p.model.services.map((s) => s.name);
      expect(pages).toEqual(
        expect.arrayContaining(['index.html', 'services.html', 'hosts.html', 'endpoints.html', 'graph.html', ...services.map((s) => `services/${s}.html`), ...p.model.hosts.map((h) => `hosts/${h.name}.html`)]),
      );
      for (const page of pages) {
        const log = await browser.visit(`${srv.url}/${page}`);
        // Without Prometheus behind the origin, the live queries get 404s: those, and only those.
        const otherFailures = log.failedRequests.filter((f) => !/^404 .*\/api\/v1\/query\?query=/.test(f));
        expect({ page, otherFailures, exceptions: log.exceptions, dialogs: log.dialogs }).toEqual({ page, otherFailures: [], exceptions: [], dialogs: [] });
        expect(log.consoleErrors.filter((e) => !/404/.test(e)), page).toEqual([]);
        const f = await browser.evaluate<Facts>(PAGE_FACTS);
        expect(f.imgs, page).toBe(0);
        expect(f.scripts.every((s) => s !== null && /live\.js$/.test(s)), page).toBe(true);
        // Links and assets stay inside the site and name existing files.
        for (const l of [...f.links, ...f.assets]) {
          const u = new URL(l);
          expect(u.origin, `${page} -> ${l}`).toBe(srv.url);
          expect(existsSync(join(site, decodeURIComponent(u.pathname))), `${page} -> ${l}`).toBe(true);
        }
        // Every page links to the overview and the lists.
        for (const top of ['index.html', 'services.html', 'hosts.html', 'endpoints.html', 'graph.html']) expect(f.links, page).toContain(`${srv.url}/${top}`);
        if (page === 'index.html' || page === 'services.html') {
          expect(f.serviceRows.map((r) => r.service)).toEqual(services);
          for (const r of f.serviceRows) expect(r.links.slice(0, (p.schedule.assignments[r.service] ?? []).length), r.service).toEqual(p.schedule.assignments[r.service] ?? []);
        }
        if (page === 'index.html' || page === 'hosts.html') {
          const ctx = makeContext(p.model, p.schedule);
          expect(f.hostRows.map((r) => r.host)).toEqual(p.model.hosts.map((h) => h.name));
          for (const r of f.hostRows) expect(r.links.filter((l) => services.includes(l)), r.host).toEqual((ctx.servicesOnHost.get(r.host) ?? []).map((s) => s.name));
        }
        if (page.startsWith('services/')) {
          const s = page.slice('services/'.length, -'.html'.length);
          expect(f.instanceRows, page).toEqual(p.schedule.assignments[s] ?? []);
        }
        if (page.startsWith('hosts/')) {
          const h = page.slice('hosts/'.length, -'.html'.length);
          expect(f.hostServiceRows, page).toEqual(makeContext(p.model, p.schedule).servicesOnHost.get(h)!.map((s) => s.name));
        }
        if (page === 'graph.html') {
          // One node per service (in layout order, not name order).
          expect([...f.nodes].sort()).toEqual([...services].sort());
          const declared = p.model.services.flatMap((s) =>
            (s.annotations.dependencies ?? []).map((d) => {
              const end = (x: string) => (x.includes('/') ? x.slice(0, x.indexOf('/')) : s.name);
              return `${end(d.client)}>${end(d.server)}`;
            }),
          );
          expect(f.declared).toEqual(declared);
        }
        if (page === 'endpoints.html') {
          const dns = publicDnsRecords(makeContext(p.model, p.schedule));
          expect(f.dnsRows).toEqual(dns.map((d) => [d.fqdn, d.type, d.value, String(d.ttl), d.purpose]));
        }
        if (['index.html', 'graph.html', 'endpoints.html'].includes(page) || (page.startsWith('services/') && c.name.startsWith('hostile'))) {
          writeFileSync(join(ARTIFACTS, `${c.name}--${page.replace(/\//g, '-')}.png`), await browser.screenshot());
        }
        if (c.name.startsWith('hostile') && page === 'services/web.html') {
          expect(f.text).toContain(HOSTILE);
          expect(f.text).toContain('</td></tr><script>alert(2)</script>');
        }
        if (c.name.startsWith('hostile') && page === 'graph.html') {
          expect(f.external).toEqual(['ghost']);
          expect(f.declared).toEqual(['db>web', 'web>web', 'web>db', 'web>ghost']);
        }
      }
    } finally {
      await srv.close();
      rmSync(site, { recursive: true, force: true });
    }
  }, 120_000);

  describe.skipIf(prometheusMissing() !== undefined)('with a real Prometheus behind the same origin', () => {
    let prom: TestPrometheus;
    beforeAll(async () => {
      prom = await startPrometheus({ service: 'web', host: 'be1' }, { service: 'web', host: 'be2' });
    }, 90_000);
    afterAll(async () => {
      await prom?.stop();
    });

    it('marks instances up and down, lists the firing alert, with no failed request', async () => {
      const c = all.find((x) => x.name.startsWith('hostile'))!;
      const p = plan(c.config);
      expect(p.schedule.assignments.web).toEqual(['be1', 'be2']);
      const site = mkdtempSync(join(tmpdir(), 'float-dashboard-live-'));
      rmSync(site, { recursive: true });
      writeSite(renderDashboard(p.model, p.schedule), site);
      const srv = await serveSite(site, prom.url);
      try {
        for (const page of ['index.html', 'services/web.html', 'hosts/be2.html', 'hosts/be1.html']) {
          const log = await browser.visit(`${srv.url}/${page}`, 1500);
          expect({ page, ...log }).toEqual({ page, consoleErrors: [], exceptions: [], failedRequests: [], dialogs: [] });
          const f = await browser.evaluate<Facts>(PAGE_FACTS);
          // be1's instance is up (the positive control), be2's target is dead.
          if (page !== 'hosts/be2.html') expect(f.states['web@be1'], page).toBe('up');
          if (page !== 'hosts/be1.html') expect(f.states['web@be2'], page).toBe('down');
          if (page === 'index.html') expect(f.states['db@' + p.schedule.assignments.db[0]]).toBe('?'); // no target: unknown
          if (page === 'hosts/be1.html') {
            // The alert is about be2: not listed on be1's page.
            expect(f.alertsHidden).toBe(true);
          } else {
            expect(f.alertsHidden, page).toBe(false);
            expect(f.alerts, page).toEqual(['ServiceInstanceDown · service web · host be2 · severity page']);
          }
          expect(f.live, page).toMatch(/^live: \d+ up, \d+ down, [01] alerts$/);
          writeFileSync(join(ARTIFACTS, `live--${page.replace(/\//g, '-')}.png`), await browser.screenshot());
        }
      } finally {
        await srv.close();
        rmSync(site, { recursive: true, force: true });
      }
    }, 120_000);
  });
});

describe('the rendered site', () => {
  it('is deterministic and contains no configuration string unescaped', () => {
    const c = join(hostileConfig(), 'config.yml');
    const a = renderDashboard(plan(c).model, plan(c).schedule);
    const b = renderDashboard(plan(c).model, plan(c).schedule);
    expect([...a.entries()]).toEqual([...b.entries()]);
    const web = a.get('services/web.html')!;
    expect(web).not.toContain('<script>alert');
    expect(web).not.toContain('<img');
    expect(web).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    for (const [rel, text] of a) if (rel.endsWith('.html')) expect(text.match(/<script/g), rel).toHaveLength(1);
    expect(readFileSync(join(REPO_ROOT, 'src/dashboard/assets/live.js'), 'utf8')).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });
});
