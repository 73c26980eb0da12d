// The monitoring roles' templates, rendered by Ansible from what float compiles,
// checked by the daemons' own tools: `promtool check config`/`check rules`,
// `promtool test rules` (HostDown fires and silences the per-service alerts of its
// host, ServiceInstanceDown fires for another host's target), `amtool check-config`
// and `amtool config routes test` (warn alerts are not sent, page alerts reach the
// webhooks).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveInventory } from '../../src/inventory/derive.js';
import { plan } from '../../src/plan.js';
import { skipUnlessRequired } from '../helpers/prerequisites.js';
import { renderRoleTemplates, type RenderTask } from '../helpers/render-role.js';
import { REPO_ROOT, writeTree } from '../helpers/tree.js';

const missing = ['promtool', 'amtool', 'ansible-playbook'].filter((t) => spawnSync(t, ['--version']).status !== 0);
const skip = skipUnlessRequired('the monitoring template checks', missing.length ? `missing ${missing.join(', ')}` : undefined);

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function configDir(extraGlobals = ''): string {
  const dir = writeTree(
    {
      'config.yml': 'plugin: float\nprometheus_rules_dir: rules\n',
      'group_vars/all.yml': `domain: infra.test
domain_public: [example.test]
prometheus_scrape_interval: 5s
prometheus_alert_for: 1m
alert_runbook_fmt: "https://runbooks.example.test/%s"
alert_webhook_receivers:
  - {name: hook, url: "http://fe1.infra.test:9199/", send_resolved: true}
  - {name: quiet, url: "http://fe1.infra.test:9198/x"}
${extraGlobals}`,
      'hosts.yml': `hosts:
  fe1: {ips: [10.0.0.10], groups: [frontend]}
  be1: {ips: [10.0.0.11], groups: [backend]}
  be2: {ips: [10.0.0.12], groups: [backend]}
  aux1: {ips: [10.0.0.13], groups: [aux]}
`,
      'services.yml': `include: ${REPO_ROOT}/services.default.yml
mon-http:
  scheduling_groups: [backend, aux]
  containers: [{name: main, image: localhost/busybox:latest, port: 9180}]
  monitoring_endpoints: [{port: 9180, scheme: http, labels: {team: "o'ps {{ x }}"}}]
  public_endpoints: [{name: mon, port: 9180, scheme: http}]
mon-tls:
  scheduling_group: backend
  num_instances: 1
  service_credentials: [{name: mon-tls}]
  systemd_services: [mon-tls.service]
  monitoring_endpoints: [{port: 9443, scrape_interval: 15s}]
`,
      'rules/team.yml': 'groups:\n  - name: team\n    rules:\n      - alert: TeamThing\n        expr: vector(1) == 0\n',
    },
    'float-mon-cfg-',
  );
  dirs.push(dir);
  return dir;
}

/** Renders `templates` of `role` into a directory of its own (the role's defaults, then `vars`). */
function render(role: string, vars: Record<string, unknown>, templates: RenderTask[]): void {
  const dir = mkdtempSync(join(tmpdir(), 'float-mon-render-'));
  dirs.push(dir);
  renderRoleTemplates(role, dir, vars, templates);
}

/** The values the inventory holds for a host of `group`: globals, then the group's compiled files. */
function varsFor(inv: ReturnType<typeof deriveInventory>, group: string, host: string): Record<string, unknown> {
  const out: Record<string, unknown> = { inventory_hostname: host, ...(inv.groupVars.all.config as object) };
  for (const file of Object.values(inv.groupVars[group] ?? {})) Object.assign(out, file);
  return out;
}

describe.skipIf(skip !== undefined)('monitoring roles: rendered and checked by promtool and amtool', () => {
  let out = '';
  let inv: ReturnType<typeof deriveInventory>;
  let promHost = '';
  beforeAll(() => {
    const dir = configDir();
    const p = plan(join(dir, 'config.yml'));
    inv = deriveInventory(p.model, p.schedule);
    promHost = p.schedule.assignments['prometheus'][0];
    out = mkdtempSync(join(tmpdir(), 'float-mon-out-'));
    dirs.push(out);
    // The TLS files the scrape jobs name, as float-base-credentials installs them: promtool checks they exist.
    const creds = join(out, 'x509');
    for (const f of ['ca.pem', 'client/cert.pem', 'client/private_key.pem']) {
      mkdirSync(join(creds, 'prometheus', 'client'), { recursive: true });
      writeFileSync(join(creds, 'prometheus', f), 'placeholder\n');
    }
    const vars = varsFor(inv, 'prometheus', promHost);
    const compiled = vars.float_prometheus as { scrape_configs: Array<{ tls_config?: Record<string, string> }> };
    const fp = {
      ...compiled,
      scrape_configs: compiled.scrape_configs.map((j) =>
        j.tls_config ? { ...j, tls_config: Object.fromEntries(Object.entries(j.tls_config).map(([k, v]) => [k, v.replace('/etc/credentials/x509', creds)])) } : j,
      ),
    };
    mkdirSync(join(out, 'rules'));
    render('float-infra-prometheus', { ...vars, float_prometheus: fp, float_prometheus_rules_dir: join(out, 'rules') }, [
      { src: 'float-rules.yml.j2', dest: join(out, 'rules/float-rules.yml'), jinja: 'brackets' },
      { src: 'prometheus.yml.j2', dest: join(out, 'prometheus.yml') },
      { src: 'prometheus.default.j2', dest: join(out, 'prometheus.default') },
    ]);
    render('float-infra-alertmanager', varsFor(inv, 'alertmanager', p.schedule.assignments['alertmanager'][0]), [
      { src: 'alertmanager.yml.j2', dest: join(out, 'alertmanager.yml') },
      { src: 'prometheus-alertmanager.default.j2', dest: join(out, 'alertmanager.default') },
    ]);
    render('float-infra-prober', varsFor(inv, 'prober', p.schedule.assignments['prober'][0]), [{ src: 'blackbox.yml.j2', dest: join(out, 'blackbox.yml') }]);
  }, 120_000);

  it('promtool accepts the rules and the configuration, with every target and its labels', () => {
    const rules = spawnSync('promtool', ['check', 'rules', join(out, 'rules/float-rules.yml')], { encoding: 'utf8' });
    expect(rules.status, rules.stdout + rules.stderr).toBe(0);
    expect(rules.stdout).toMatch(/SUCCESS: \d+ rules found/);
    const cfg = spawnSync('promtool', ['check', 'config', join(out, 'prometheus.yml')], { encoding: 'utf8' });
    expect(cfg.status, cfg.stdout + cfg.stderr).toBe(0);
    const text = readFileSync(join(out, 'prometheus.yml'), 'utf8');
    const doc = JSON.parse(text.split('scrape_configs: ')[1]) as Array<{ job_name: string; scheme: string; tls_config?: object; scrape_interval?: string; static_configs: Array<{ targets: string[]; labels: Record<string, string> }> }>;
    const jobs = Object.fromEntries(doc.map((j) => [j.job_name, j]));
    expect(Object.keys(jobs).sort()).toEqual(['alertmanager-9093', 'frontend-haproxy', 'frontend-nginx', 'mon-http-9180', 'mon-tls-9443', 'node', 'prober-9115', 'prometheus-9090', `probe-${inv.hostGroups && Object.keys(inv.hostGroups).find((h) => inv.hostGroups[h].includes('prober'))}`].sort());
    expect(jobs['node'].static_configs.map((s) => s.targets[0]).sort()).toEqual(['aux1.host.infra.test:9100', 'be1.host.infra.test:9100', 'be2.host.infra.test:9100', 'fe1.host.infra.test:9100']);
    expect(jobs['mon-http-9180'].static_configs.map((s) => s.labels.host).sort()).toEqual(['aux1', 'be1', 'be2']);
    // The operator's label reaches Prometheus as it was written (not evaluated as Jinja).
    expect(jobs['mon-http-9180'].static_configs[0].labels).toMatchObject({ service: 'mon-http', float_job: 'mon-http-9180', team: "o'ps {{ x }}" });
    // https: scraped with the prometheus client certificate (mutual TLS); http: without.
    expect(jobs['mon-tls-9443']).toMatchObject({ scheme: 'https', scrape_interval: '15s', tls_config: { cert_file: expect.stringMatching(/prometheus\/client\/cert\.pem$/) } });
    expect(jobs['mon-http-9180'].tls_config).toBeUndefined();
    expect(text).toContain('scrape_interval: "5s"');
  });

  it('promtool test rules: HostDown silences its host\'s service alerts; another host\'s instance alerts', () => {
    const test = `rule_files: [${JSON.stringify(join(out, 'rules/float-rules.yml'))}]
evaluation_interval: 30s
tests:
  - interval: 30s
    input_series:
      - {series: 'up{float_job="node",host="aux1",service="node-exporter"}', values: '1 1 0 0 0 0 0 0 0 0'}
      - {series: 'probe_success{probe="host",host="aux1"}', values: '1 1 0 0 0 0 0 0 0 0'}
      - {series: 'up{float_job="mon-http-9180",host="aux1",service="mon-http"}', values: '1 1 0 0 0 0 0 0 0 0'}
      - {series: 'up{float_job="node",host="be1",service="node-exporter"}', values: '1 1 1 1 1 1 1 1 1 1'}
      - {series: 'probe_success{probe="host",host="be1"}', values: '1 1 1 1 1 1 1 1 1 1'}
      - {series: 'up{float_job="mon-http-9180",host="be1",service="mon-http"}', values: '1 1 0 0 0 0 0 0 0 0'}
      - {series: 'up{float_job="node",host="be2",service="node-exporter"}', values: '1 1 0 0 0 0 0 0 0 0'}
      - {series: 'probe_success{probe="host",host="be2"}', values: '1 1 1 1 1 1 1 1 1 1'}
    alert_rule_test:
      - eval_time: 4m
        alertname: HostDown
        exp_alerts:
          - exp_labels: {host: aux1, severity: page, scope: host}
            exp_annotations:
              summary: Host aux1 is down
              description: Neither node-exporter nor SSH on aux1 answers.
              runbook_url: https://runbooks.example.test/HostDown
      - eval_time: 4m
        alertname: ServiceInstanceDown
        exp_alerts:
          - exp_labels: {host: be1, service: mon-http, float_job: mon-http-9180, severity: page, scope: instance}
            exp_annotations:
              summary: Service mon-http is down on be1
              description: Prometheus cannot scrape  (job mon-http-9180).
              runbook_url: https://runbooks.example.test/ServiceInstanceDown
          - exp_labels: {host: be2, service: node-exporter, float_job: node, severity: page, scope: instance}
            exp_annotations:
              summary: Service node-exporter is down on be2
              description: Prometheus cannot scrape  (job node).
              runbook_url: https://runbooks.example.test/ServiceInstanceDown
      - eval_time: 30s
        alertname: HostDown
        exp_alerts: []
`;
    writeFileSync(join(out, 'rules.test.yml'), test);
    const r = spawnSync('promtool', ['test', 'rules', join(out, 'rules.test.yml')], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
  });

  it('amtool accepts the Alertmanager configuration; page alerts go to the webhooks, warn alerts nowhere', () => {
    const cfg = join(out, 'alertmanager.yml');
    const c = spawnSync('amtool', ['check-config', cfg], { encoding: 'utf8' });
    expect(c.status, c.stdout + c.stderr).toBe(0);
    const route = (labels: string[]) => spawnSync('amtool', ['config', 'routes', 'test', `--config.file=${cfg}`, ...labels], { encoding: 'utf8' }).stdout.trim();
    expect(route(['alertname=ServiceInstanceDown', 'severity=page'])).toBe('default');
    expect(route(['alertname=ServiceDegraded', 'severity=warn'])).toBe('silent');
    const text = readFileSync(cfg, 'utf8');
    expect(text).toContain('"http://fe1.infra.test:9199/"');
    expect(text).toMatch(/"http:\/\/fe1\.infra\.test:9199\/"\n\s+send_resolved: true/);
    expect(text).toMatch(/"http:\/\/fe1\.infra\.test:9198\/x"\n\s+send_resolved: false/);
    expect(text).not.toContain('email_configs');
    // One instance: no cluster listener.
    expect(readFileSync(join(out, 'alertmanager.default'), 'utf8')).toContain('--cluster.listen-address="');
  });

  it('positive controls of the above: with alert_email, email_configs; with a second peer, a cluster listener and that peer', () => {
    const p = plan(join(configDir('alert_email: ops@example.test\nalertmanager_smtp_smarthost: "smtp.example.test:587"\n'), 'config.yml'));
    const host = p.schedule.assignments['alertmanager'][0];
    const other = host === 'be1' ? 'be2' : 'be1';
    const vars = varsFor(deriveInventory(p.model, p.schedule), 'alertmanager', host);
    render('float-infra-alertmanager', { ...vars, float_alertmanager: { peers: [host, other].map((h) => `${h}.alertmanager.infra.test:9094`) } }, [
      { src: 'alertmanager.yml.j2', dest: join(out, 'alertmanager-email.yml') },
      { src: 'prometheus-alertmanager.default.j2', dest: join(out, 'alertmanager-peers.default') },
    ]);
    const cfg = join(out, 'alertmanager-email.yml');
    const c = spawnSync('amtool', ['check-config', cfg], { encoding: 'utf8' });
    expect(c.status, c.stdout + c.stderr).toBe(0);
    expect(readFileSync(cfg, 'utf8')).toMatch(/email_configs:\n\s+- to: "ops@example\.test"/);
    const args = readFileSync(join(out, 'alertmanager-peers.default'), 'utf8');
    expect(args).toContain(`--cluster.listen-address=:9094 --cluster.peer=${other}.alertmanager.infra.test:9094"`);
    expect(args).not.toContain(`--cluster.peer=${host}.`);
  });

  it('the prober gets a module per public name, with its Host header and SNI', () => {
    const text = readFileSync(join(out, 'blackbox.yml'), 'utf8');
    const modules = JSON.parse(text.split('modules: ')[1]) as Record<string, { http?: { headers: Record<string, string>; tls_config: { server_name: string } } }>;
    // The configuration's endpoint, and the built-in admin endpoints (services.default.yml).
    expect(Object.keys(modules).sort()).toEqual([
      'host_ssh', 'internal_tls', 'public_https_alertmanager_example_test', 'public_https_dashboard_example_test', 'public_https_mon_example_test', 'public_https_monitoring_example_test',
    ]);
    expect(modules['public_https_mon_example_test'].http).toMatchObject({ headers: { Host: 'mon.example.test' }, tls_config: { server_name: 'mon.example.test' } });
  });
});

describe.skipIf(skip !== undefined)('float check runs promtool on the operator rules', () => {
  it('refuses a broken rule file with its name, accepts a good one', () => {
    const dir = configDir();
    const check = () => spawnSync(process.execPath, [join(REPO_ROOT, 'bin/float.mjs'), 'check', '--config', join(dir, 'config.yml')], { encoding: 'utf8' });
    const good = check();
    expect(good.status, good.stderr).toBe(0);
    writeFileSync(join(dir, 'rules/broken.yml'), 'groups:\n  - name: b\n    rules:\n      - alert: X\n        expr: sum(\n');
    const bad = check();
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/rules\/broken\.yml:1:1: error: promtool check rules refuses this file: .*\[F2114\]/);
    expect(bad.stderr).not.toContain('team.yml');
  });
});
