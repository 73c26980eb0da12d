// The monitoring data derive compiles (scrape jobs, probes, alertmanager peers,
// exporter firewall rules) and the load-time checks of the monitoring attributes
// (F2110-F2115).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deriveInventory } from '../../src/inventory/derive.js';
import type { FirewallRule } from '../../src/inventory/derive.js';
import { plan } from '../../src/plan.js';
import { diagnose } from '../helpers/diagnose.js';
import { REPO_ROOT, baseTree, writeTree } from '../helpers/tree.js';

const INCLUDE = `include: ${REPO_ROOT}/services.default.yml\n`;

function derive(services: string, globals = '') {
  const dir = writeTree(
    baseTree({
      'group_vars/all.yml': `domain: internal.example.com\ndomain_public: [example.com]\n${globals}`,
      'services.yml': INCLUDE + services,
    }),
  );
  const p = plan(join(dir, 'config.yml'));
  return { p, inv: deriveInventory(p.model, p.schedule) };
}

interface Job {
  job_name: string;
  scheme: string;
  metrics_path: string;
  scrape_interval?: string;
  tls_config?: Record<string, string>;
  static_configs: Array<{ targets: string[]; labels: Record<string, unknown> }>;
  relabel_configs?: unknown[];
}

const jobsOf = (inv: ReturnType<typeof deriveInventory>) =>
  Object.fromEntries(((inv.groupVars.prometheus.float_monitoring.float_prometheus as { scrape_configs: Job[] }).scrape_configs).map((j) => [j.job_name, j]));

const SVC = `api:
  scheduling_group: backend
  num_instances: 2
  service_credentials: [{name: api}]
  monitoring_endpoints:
    - {port: 8443, metrics_path: /m, scrape_interval: 30s, labels: {tier: "2", team: ops}}
    - {port: 8080, scheme: http}
  public_endpoints:
    - {name: www, port: 8080, scheme: http, path: /app}
`;

describe('monitoring data in the inventory', () => {
  it('one job per monitoring endpoint, a target per instance with host/service/float_job labels; https with the prometheus client certificate', () => {
    const { p, inv } = derive(SVC);
    const jobs = jobsOf(inv);
    const hosts = p.schedule.assignments['api'];
    expect(hosts).toHaveLength(2);
    expect(jobs['api-8443']).toMatchObject({ scheme: 'https', metrics_path: '/m', scrape_interval: '30s' });
    expect(jobs['api-8443'].tls_config).toEqual({
      ca_file: '/etc/credentials/x509/prometheus/ca.pem',
      cert_file: '/etc/credentials/x509/prometheus/client/cert.pem',
      key_file: '/etc/credentials/x509/prometheus/client/private_key.pem',
    });
    expect(jobs['api-8443'].static_configs).toEqual(
      hosts.map((h) => ({ targets: [`${h}.api.internal.example.com:8443`], labels: { host: h, service: 'api', float_job: 'api-8443', team: 'ops', tier: '2' } })),
    );
    expect(jobs['api-8080']).toMatchObject({ scheme: 'http', metrics_path: '/metrics' });
    expect(jobs['api-8080'].tls_config).toBeUndefined();
    expect(jobs['api-8080'].scrape_interval).toBeUndefined();
  });

  it('node-exporter on every host, nginx and haproxy on the frontends, the built-in services themselves', () => {
    const jobs = jobsOf(derive(SVC).inv);
    expect(jobs['node'].static_configs.map((s) => s.targets[0])).toEqual(['host1', 'host2', 'host3'].map((h) => `${h}.host.internal.example.com:9100`));
    expect(jobs['frontend-nginx'].static_configs).toEqual([{ targets: ['host1.host.internal.example.com:9113'], labels: { host: 'host1', service: 'frontend', float_job: 'frontend-nginx' } }]);
    expect(jobs['frontend-haproxy'].static_configs[0].targets).toEqual(['host1.host.internal.example.com:8405']);
    for (const j of ['prometheus-9090', 'alertmanager-9093', 'prober-9115']) expect(Object.keys(jobs)).toContain(j);
  });

  it('probes: each public name through each frontend with its module; hosts over SSH; internal https endpoints over TLS', () => {
    const { p, inv } = derive(SVC, 'prometheus_scrape_interval: 7s\n');
    const prober = p.schedule.assignments['prober'][0];
    const job = jobsOf(inv)[`probe-${prober}`];
    expect(job).toMatchObject({ metrics_path: '/probe', scrape_interval: '7s' });
    expect(job.relabel_configs).toContainEqual({ target_label: '__address__', replacement: `${prober}.prober.internal.example.com:9115` });
    const byProbe = (k: string) => job.static_configs.filter((s) => s.labels.probe === k);
    expect(byProbe('public_endpoint').filter((s) => s.labels.service === 'api')).toEqual([
      {
        targets: ['https://host1.host.internal.example.com/app/'],
        labels: { __param_module: 'public_https_www_example_com', probe: 'public_endpoint', host: 'host1', service: 'api', server_name: 'www.example.com', float_job: 'probe', prober: 'prober', prober_host: prober },
      },
    ]);
    // The built-in admin endpoints are probed too (their 403 without an admin certificate counts as up).
    expect(byProbe('public_endpoint').filter((s) => s.labels.service !== 'api').map((s) => s.labels.server_name).sort()).toEqual([
      'alertmanager.example.com', 'dashboard.example.com', 'monitoring.example.com',
    ]);
    expect(byProbe('host').map((s) => s.targets[0])).toEqual(['host1', 'host2', 'host3'].map((h) => `${h}.host.internal.example.com:22`));
    expect(byProbe('internal_tls').map((s) => s.targets[0]).sort()).toEqual(p.schedule.assignments['api'].map((h) => `${h}.api.internal.example.com:8443`).sort());
    const modules = (inv.groupVars.prober.float_monitoring.float_prober as { modules: Record<string, { http?: Record<string, unknown> }> }).modules;
    expect(modules['public_https_www_example_com'].http).toMatchObject({ headers: { Host: 'www.example.com' }, tls_config: { server_name: 'www.example.com', insecure_skip_verify: true } });
  });

  it('prometheus_probe_scrape_interval wins for probes; prober_alert_timeout sets the probe alerts\' timeout', () => {
    const { p, inv } = derive(SVC + 'prober:\n  prober_alert_timeout: 30m\n', 'prometheus_scrape_interval: 7s\nprometheus_probe_scrape_interval: 20s\n');
    expect(jobsOf(inv)[`probe-${p.schedule.assignments['prober'][0]}`].scrape_interval).toBe('20s');
    expect((inv.groupVars.prometheus.float_monitoring.float_prometheus as { probe_alert_timeouts: unknown }).probe_alert_timeouts).toEqual([{ prober: 'prober', for: '30m' }]);
  });

  it('the exporters\' ports are open to the prometheus hosts only; without a prometheus service, nothing', () => {
    const { inv } = derive(SVC);
    expect(inv.groupVars.prometheus).toBeDefined();
    const fw = (h: string) => (inv.hostVars[h].float_host_firewall as FirewallRule[]).filter((r) => r.reason === 'monitoring').map((r) => `${r.port}/${r.sources}`);
    expect(fw('host1')).toEqual(expect.arrayContaining(['9100/scrapers', '9113/scrapers', '8405/scrapers']));
    expect(fw('host2')).toContain('9100/scrapers');
    expect(fw('host2')).not.toContain('9113/scrapers');
    const plainDir = writeTree(baseTree({ 'services.yml': 'web:\n  scheduling_group: backend\n  monitoring_endpoints: [{port: 9999}]\n' }));
    const p = plan(join(plainDir, 'config.yml'));
    const inv2 = deriveInventory(p.model, p.schedule);
    expect(inv2.groupVars.prometheus).toBeUndefined();
    // The service's own monitoring port still follows monitoring_endpoints (to the empty scrapers set).
    expect((inv2.hostVars.host2.float_host_firewall as FirewallRule[]).map((r) => `${r.port}/${r.sources}`)).toEqual(['9999/scrapers']);
  });

  it('alertmanager peers list every instance\'s cluster port', () => {
    const { p, inv } = derive('alertmanager:\n  num_instances: 2\n');
    const peers = (inv.groupVars.alertmanager.float_monitoring.float_alertmanager as { peers: string[] }).peers;
    expect(peers).toEqual(p.schedule.assignments['alertmanager'].map((h) => `${h}.alertmanager.internal.example.com:9094`));
    expect((inv.groupVars.prometheus.float_monitoring.float_prometheus as { alertmanagers: string[] }).alertmanagers).toHaveLength(2);
  });
});

describe('monitoring checks (F2110-F2115)', () => {
  const svc = (endpoint: string) => `a:\n  scheduling_group: backend\n  monitoring_endpoints:\n    - ${endpoint}\n`;
  it('label names Prometheus refuses, float\'s own labels, line breaks in values', () => {
    expect(diagnose({ 'services.yml': svc('{port: 9100, labels: {"1bad": x}}') }).map((d) => d.at)).toEqual(['services.yml:4:29 F2110']);
    expect(diagnose({ 'services.yml': svc('{port: 9100, labels: {__x: x}}') }).map((d) => d.at)).toEqual(['services.yml:4:29 F2110']);
    const own = diagnose({ 'services.yml': svc('{port: 9100, labels: {host: x}}') });
    expect(own.map((d) => d.at)).toEqual(['services.yml:4:29 F2110']);
    expect(own[0].message).toContain('set by float');
    // A line break is refused with every other string (F1010), not twice.
    expect(diagnose({ 'services.yml': svc('{port: 9100, labels: {team: "a\\nb"}}') }).map((d) => d.at)).toEqual(['services.yml:4:35 F1010']);
    expect(diagnose({ 'services.yml': svc('{port: 9100, labels: {team: ops, tier: 2}}') })).toEqual([]);
  });

  it('durations: scrape_interval, prober_alert_timeout, the globals', () => {
    expect(diagnose({ 'services.yml': svc('{port: 9100, scrape_interval: 10 s}') }).map((d) => d.at)).toEqual(['services.yml:4:37 F2111']);
    expect(diagnose({ 'services.yml': svc('{port: 9100, scrape_interval: 0s}') }).map((d) => d.at)).toEqual(['services.yml:4:37 F2111']);
    expect(diagnose({ 'services.yml': svc('{port: 9100, scrape_interval: 1m30s}') })).toEqual([]);
    expect(diagnose({ 'services.yml': 'a:\n  scheduling_group: backend\n  prober_alert_timeout: soon\n' }).map((d) => d.at)).toEqual(['services.yml:3:25 F2111']);
    const g = diagnose({ 'group_vars/all.yml': 'domain: i.example.com\ndomain_public: [example.com]\nprometheus_tsdb_retention: 90days\nalertmanager_group_wait: 10s\n' });
    expect(g.map((d) => d.at)).toEqual(['group_vars/all.yml:3:28 F2111']);
  });

  it('metrics_path must be an absolute path', () => {
    expect(diagnose({ 'services.yml': svc('{port: 9100, metrics_path: metrics}') }).map((d) => d.at)).toEqual(['services.yml:4:34 F2112']);
    expect(diagnose({ 'services.yml': svc('{port: 9100, metrics_path: "/m?x=1"}') }).map((d) => d.at)).toEqual(['services.yml:4:34 F2112']);
    expect(diagnose({ 'services.yml': svc('{port: 9100, metrics_path: /custom/metrics}') })).toEqual([]);
  });

  it('webhook receivers: URL, unique names; alert_email needs a smarthost', () => {
    const g = (extra: string) => diagnose({ 'group_vars/all.yml': `domain: i.example.com\ndomain_public: [example.com]\n${extra}` }).map((d) => d.at);
    expect(g('alert_webhook_receivers:\n  - {name: a, url: "ftp://x/"}\n')).toEqual(['group_vars/all.yml:4:20 F2113']);
    expect(g('alert_webhook_receivers:\n  - {name: a, url: "http://x/"}\n  - {name: a, url: "http://y/"}\n')).toEqual(['group_vars/all.yml:5:5 F2113']);
    expect(g('alert_webhook_receivers:\n  - {name: a, url: "http://x:9/a"}\n  - {name: b, url: "https://y/"}\n')).toEqual([]);
    expect(g('alert_email: ops@example.com\n')).toEqual(['group_vars/all.yml:3:14 F2113']);
    expect(g('alert_email: ops@example.com\nalertmanager_smtp_smarthost: "smtp.example.com:587"\n')).toEqual([]);
  });

  it('prometheus_rules_dir must be a directory', () => {
    expect(diagnose({ 'config.yml': 'plugin: float\nprometheus_rules_dir: nowhere\n' }).map((d) => d.at)).toEqual(['config.yml:2:23 F2115']);
    expect(diagnose({ 'config.yml': 'plugin: float\nprometheus_rules_dir: group_vars\n' })).toEqual([]);
  });
});
