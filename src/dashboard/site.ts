// The admin dashboard as files: a static site rendered from the compiled model
// (services, hosts, endpoints and DNS records, the dependency graph). Pure and
// deterministic: the same configuration gives byte-identical files (no clock, no
// environment), so it sits in the compiled output beside the inventory.
import type { Model } from '../config/load.js';
import type { Host } from '../config/schema/host.js';
import { endpointPath, type Service } from '../config/schema/service.js';
import { endpointServerNames, makeContext, type Context } from '../inventory/context.js';
import { byCodePoint } from '../inventory/names.js';
import { publicDnsRecords } from '../inventory/public-dns.js';
import type { ScheduleResult } from '../scheduler/types.js';
import { LIVE_JS, STYLE_CSS } from './assets.js';
import { dependencyGraph, graphSvg, type GraphEdge } from './graph.js';
import { esc, facts, hostPage, link, page, servicePage, table } from './html.js';

const code = (s: unknown): string => `<code>${esc(s)}</code>`;
const list = (items: string[]): string => (items.length ? items.join(', ') : '<span class="none">none</span>');
const state = (service: string, host: string): string =>
  `<span class="state" data-service="${esc(service)}" data-host="${esc(host)}" title="live state unknown">&middot;</span>`;

function svcLink(root: string, name: string, names: Set<string>): string {
  return names.has(name) ? link(root, servicePage(name), name) : `${esc(name)} <span class="none">(not a service here)</span>`;
}

function portsOf(s: Service): string[][] {
  const rows: string[][] = [];
  for (const p of s.ports) rows.push([code(p), 'service port', '']);
  for (const c of s.containers) for (const p of [...(c.port ? [c.port] : []), ...(c.ports ?? [])]) rows.push([code(p), 'container', esc(c.name)]);
  for (const m of s.monitoring_endpoints) rows.push([code(m.port), `metrics (${esc(m.scheme)})`, esc(m.name ?? '')]);
  for (const e of s.public_endpoints) rows.push([code(e.port), `public endpoint (${esc(e.scheme)})`, esc(e.name ?? '')]);
  for (const e of s.public_tcp_endpoints) rows.push([code(e.port), 'public TCP endpoint', esc(e.name)]);
  for (const e of s.horizontal_endpoints) rows.push([code(e.port), `horizontal endpoint (${esc(e.scheme)})`, esc(e.path)]);
  return rows;
}

function publicUrls(ctx: Context, e: { name?: string; domains?: string[]; path?: string; mode: string }): string[] {
  const scheme = e.mode === 'http' ? 'http' : 'https';
  return endpointServerNames(ctx, e).map((n) => `${scheme}://${n}${endpointPath(e.path)}`);
}

function annotationRows(s: Service): string[][] {
  return Object.keys(s.annotations)
    .filter((k) => k !== 'summary' && k !== 'dependencies')
    .sort(byCodePoint)
    .map((k) => {
      const v = (s.annotations as Record<string, unknown>)[k];
      return [esc(k), typeof v === 'string' ? esc(v) : code(JSON.stringify(v))];
    });
}

function edgeRows(root: string, edges: GraphEdge[], names: Set<string>): string[][] {
  return edges.map((e) => [
    e.kind === 'declared' ? `${svcLink(root, e.from, names)} ${code(e.client)}` : svcLink(root, e.from, names),
    e.kind === 'declared' ? `${svcLink(root, e.to, names)} ${code(e.server)}` : svcLink(root, e.to, names),
    e.kind === 'declared' ? `declared by ${svcLink(root, e.declaredBy!, names)}` : 'public route (derived)',
  ]);
}

function servicePageHtml(ctx: Context, s: Service, edges: GraphEdge[], fleet: string, names: Set<string>): string {
  const r = '../';
  const hosts = ctx.schedule.assignments[s.name] ?? [];
  const master = ctx.schedule.masters[s.name];
  const groups = s.scheduling_groups ?? (s.scheduling_group ? [s.scheduling_group] : []);
  const body: string[] = [];
  body.push(s.annotations.summary ? `<p class="summary">${esc(s.annotations.summary)}</p>` : '');
  body.push(
    facts([
      ['scheduling groups', list(groups.map(esc))],
      ['instances', `${hosts.length} (num_instances: ${esc(s.num_instances)})`],
      ['master election', s.master_election ? `yes, master ${master ? link(r, hostPage(master), master) : 'none'}` : 'no'],
    ]),
  );
  body.push('<h2>Instances</h2>');
  body.push(
    table(
      'instances',
      ['index', 'host', 'role', 'state'],
      hosts.map((h) => [String(ctx.instanceIndex.get(`${s.name}\0${h}`) ?? ''), link(r, hostPage(h), h), h === master ? 'master' : '', state(s.name, h)]),
      hosts.map((h) => `data-host="${esc(h)}"`),
    ),
  );
  body.push('<h2>Public endpoints</h2>');
  body.push(
    table(
      'public-endpoints',
      ['name', 'URLs', 'port', 'scheme', 'mode'],
      s.public_endpoints.map((e) => [esc(e.name ?? ''), publicUrls(ctx, e).map(code).join('<br>'), code(e.port), esc(e.scheme), esc(e.mode)]),
    ),
  );
  if (s.public_tcp_endpoints.length || s.public_other_endpoints.length || s.horizontal_endpoints.length) {
    body.push('<h2>Other endpoints</h2>');
    body.push(
      table('other-endpoints', ['kind', 'name or path', 'port'], [
        ...s.public_tcp_endpoints.map((e) => ['public TCP', esc(e.name), `${code(e.port)}${e.public_port ? ` (public ${code(e.public_port)})` : ''}`]),
        ...s.public_other_endpoints.map((e) => ['public (other)', esc(e.name), '']),
        ...s.horizontal_endpoints.map((e) => [`horizontal (${esc(e.scheme)})`, code(e.path), code(e.port)]),
      ]),
    );
  }
  body.push('<h2>Ports</h2>');
  body.push(table('ports', ['port', 'what', 'name'], portsOf(s)));
  body.push('<h2>Credentials</h2>');
  body.push(
    table(
      'credentials',
      ['name', 'client certificate', 'server certificate'],
      s.service_credentials.map((c) => [esc(c.name), c.enable_client ? esc(c.client_cert_mode) : 'no', c.enable_server ? esc(c.server_cert_mode) : 'no']),
    ),
  );
  body.push('<h2>Datasets</h2>');
  body.push(
    table(
      'datasets',
      ['name', 'path', 'schedule', 'where', 'last backup'],
      s.datasets.map((d) => [
        esc(d.name),
        d.path ? code(d.path) : d.backup_command ? 'backup command' : '',
        code(d.schedule),
        d.on_master_only ? 'master only' : d.sharded ? 'sharded' : 'every instance',
        `<span class="backup" data-service="${esc(s.name)}" data-dataset="${esc(d.name)}">unknown</span>`,
      ]),
    ),
  );
  if (s.containers.length || s.systemd_services.length) {
    body.push('<h2>Compute units</h2>');
    body.push(
      table('units', ['kind', 'name', 'detail'], [
        ...s.containers.map((c) => ['container', esc(c.name), code(c.image)]),
        ...s.systemd_services.map((u) => ['systemd unit', esc(u), '']),
      ]),
    );
  }
  body.push('<h2>Dependencies</h2>');
  body.push(
    table(
      'dependencies',
      ['client', 'server', 'source'],
      edgeRows(
        r,
        edges.filter((e) => e.from === s.name || e.to === s.name),
        names,
      ),
    ),
  );
  const other = annotationRows(s);
  if (other.length) {
    body.push('<h2>Annotations</h2>');
    body.push(table('annotations', ['key', 'value'], other));
  }
  return page({ title: `Service ${s.name}`, root: r, body: body.join('\n'), fleet, current: 'services.html', scope: { service: s.name } });
}

function hostPageHtml(ctx: Context, h: Host, fleet: string): string {
  const r = '../';
  const services = ctx.servicesOnHost.get(h.name) ?? [];
  const body: string[] = [];
  body.push(
    facts([
      ['addresses', list(h.ips.map(code))],
      ['public addresses', list(h.public_ips.map(code))],
      ['groups', list(h.groups.map(esc))],
      ['turndown', h.turndown ? 'yes: receives no new instances' : 'no'],
    ]),
  );
  body.push('<h2>Overlay addresses</h2>');
  body.push(
    table(
      'overlays',
      ['network', 'address'],
      Object.keys(h.overlays)
        .sort(byCodePoint)
        .map((n) => [esc(n), code(h.overlays[n])]),
    ),
  );
  body.push('<h2>Services</h2>');
  body.push(
    table(
      'services',
      ['service', 'instance index', 'role', 'state'],
      services.map((s) => [
        link(r, servicePage(s.name), s.name),
        String(ctx.instanceIndex.get(`${s.name}\0${h.name}`) ?? ''),
        ctx.schedule.masters[s.name] === h.name ? 'master' : '',
        state(s.name, h.name),
      ]),
      services.map((s) => `data-service="${esc(s.name)}"`),
    ),
  );
  return page({ title: `Host ${h.name}`, root: r, body: body.join('\n'), fleet, current: 'hosts.html', scope: { host: h.name } });
}

/** Renders the whole site: relative path -> contents. */
export function renderDashboard(model: Model, schedule: ScheduleResult): Map<string, string> {
  const ctx = makeContext(model, schedule);
  const fleet = model.globals.domain;
  const names = new Set(model.services.map((s) => s.name));
  const graph = dependencyGraph(model.services);
  const files = new Map<string, string>();
  files.set('style.css', STYLE_CSS);
  files.set('live.js', LIVE_JS);

  const instanceCells = (s: Service): string =>
    (schedule.assignments[s.name] ?? []).map((h) => `${link('', hostPage(h), h)}${schedule.masters[s.name] === h ? ' (master)' : ''} ${state(s.name, h)}`).join('<br>') ||
    '<span class="none">no host</span>';
  const serviceRows = model.services.map((s) => [
    link('', servicePage(s.name), s.name),
    instanceCells(s),
    esc(s.annotations.summary ?? ''),
  ]);
  const rowAttrs = model.services.map((s) => `data-service="${esc(s.name)}"`);
  const hostRows = model.hosts.map((h) => [
    link('', hostPage(h.name), h.name),
    list(h.groups.map(esc)),
    list((ctx.servicesOnHost.get(h.name) ?? []).map((s) => link('', servicePage(s.name), s.name))),
    list(h.public_ips.map(code)),
  ]);
  const hostAttrs = model.hosts.map((h) => `data-host="${esc(h.name)}"`);

  const instances = Object.values(schedule.assignments).reduce((a, l) => a + l.length, 0);
  files.set(
    'index.html',
    page({
      title: 'Overview',
      root: '',
      fleet,
      current: 'index.html',
      body: [
        facts([
          ['domain', esc(model.globals.domain)],
          ['public domains', list(model.globals.domain_public.map(esc))],
          ['services', link('', 'services.html', String(model.services.length))],
          ['hosts', link('', 'hosts.html', String(model.hosts.length))],
          ['instances', String(instances)],
          ['dependencies', link('', 'graph.html', String(graph.edges.filter((e) => e.kind === 'declared').length) + ' declared')],
        ]),
        '<h2>Services</h2>',
        table('service-table', ['service', 'hosts', 'summary'], serviceRows, rowAttrs),
        '<h2>Hosts</h2>',
        table('host-table', ['host', 'groups', 'services', 'public addresses'], hostRows, hostAttrs),
      ].join('\n'),
    }),
  );
  files.set(
    'services.html',
    page({
      title: 'Services',
      root: '',
      fleet,
      current: 'services.html',
      body: table(
        'service-table',
        ['service', 'hosts', 'master', 'summary'],
        model.services.map((s) => [
          link('', servicePage(s.name), s.name),
          instanceCells(s),
          schedule.masters[s.name] ? link('', hostPage(schedule.masters[s.name]), schedule.masters[s.name]) : '',
          esc(s.annotations.summary ?? ''),
        ]),
        rowAttrs,
      ),
    }),
  );
  files.set(
    'hosts.html',
    page({ title: 'Hosts', root: '', fleet, current: 'hosts.html', body: table('host-table', ['host', 'groups', 'services', 'public addresses'], hostRows, hostAttrs) }),
  );

  const endpointRows: string[][] = [];
  for (const s of model.services) {
    for (const e of s.public_endpoints)
      endpointRows.push([link('', servicePage(s.name), s.name), 'HTTP', publicUrls(ctx, e).map(code).join('<br>'), code(e.port), esc(e.mode)]);
    for (const e of s.public_tcp_endpoints)
      endpointRows.push([link('', servicePage(s.name), s.name), 'TCP', esc(e.name), code(e.public_port ?? e.port), e.use_proxy_protocol ? 'proxy protocol' : '']);
    for (const e of s.public_other_endpoints) endpointRows.push([link('', servicePage(s.name), s.name), 'other', esc(e.name), '', '']);
  }
  const dns = publicDnsRecords(ctx);
  files.set(
    'endpoints.html',
    page({
      title: 'Endpoints and DNS',
      root: '',
      fleet,
      current: 'endpoints.html',
      body: [
        '<h2>Public endpoints</h2>',
        table('endpoint-table', ['service', 'kind', 'address', 'port', 'mode'], endpointRows),
        '<h2>Public DNS records</h2>',
        '<p>The records the frontends serve (what <code>float dns</code> prints).</p>',
        table(
          'dns-table',
          ['FQDN', 'type', 'value', 'TTL', 'purpose'],
          dns.map((d) => [code(d.fqdn), esc(d.type), code(d.value), String(d.ttl), esc(d.purpose)]),
        ),
      ].join('\n'),
    }),
  );
  files.set(
    'graph.html',
    page({
      title: 'Dependencies',
      root: '',
      fleet,
      current: 'graph.html',
      body: [
        '<p>Clients above the services they use. Solid arrows: dependencies declared in <code>annotations.dependencies</code>; dashed: the frontend routing public traffic. Nodes link to their services.</p>',
        `<div class="graph">${graphSvg(graph, '')}</div>`,
        '<h2>Edges</h2>',
        table('edge-table', ['client', 'server', 'source'], edgeRows('', graph.edges, names)),
      ].join('\n'),
    }),
  );
  for (const s of model.services) files.set(servicePage(s.name), servicePageHtml(ctx, s, graph.edges, fleet, names));
  for (const h of model.hosts) files.set(hostPage(h.name), hostPageHtml(ctx, h, fleet));
  return new Map([...files.entries()].sort(([a], [b]) => byCodePoint(a, b)));
}
