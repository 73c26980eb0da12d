// The monitoring data float compiles for its built-in monitoring services: the
// Prometheus scrape jobs (every instance's monitoring_endpoints, node-exporter on
// every host, the frontends' nginx and haproxy metrics), the blackbox probes
// (public endpoints through every frontend, host reachability, the certificates
// of internal https endpoints), the Alertmanager addresses, and the firewall rules
// of the host-level exporters. Pure: no I/O; the roles only render this data.
import type { Host } from '../config/schema/host.js';
import { endpointPath, type Service } from '../config/schema/service.js';
import { endpointServerNames, instanceName, type Context } from './context.js';
import type { FirewallRule } from './derive.js';
import { byCodePoint } from './names.js';
import type { Vars } from './types.js';
import { dataString } from './yaml-emit.js';

/** The built-in services (services.default.yml) this data is for. */
export const PROMETHEUS = 'prometheus';
export const ALERTMANAGER = 'alertmanager';
export const PROBER = 'prober';

/** Host-level exporters, on their Debian packages' default ports. */
export const NODE_EXPORTER_PORT = 9100;
export const NGINX_EXPORTER_PORT = 9113;
export const HAPROXY_METRICS_PORT = 8405;
const BLACKBOX_DEFAULT_PORT = 9115;
const ALERTMANAGER_PORT = 9093;
const ALERTMANAGER_CLUSTER_PORT = 9094;
/** The default alert timeout of float's own probes (the reference: 10s polling, 5m timeout). */
const DEFAULT_PROBER_ALERT_TIMEOUT = '5m';

/**
 * Where float-base-credentials installs a credential on the hosts (its
 * float_credentials_root default): Prometheus presents the `prometheus` client
 * certificate to https targets, the prober its `prober` one.
 */
const CREDENTIALS_ROOT = '/etc/credentials/x509';
function tlsConfig(credential: string): Vars {
  const d = `${CREDENTIALS_ROOT}/${credential}`;
  return { ca_file: `${d}/ca.pem`, cert_file: `${d}/client/cert.pem`, key_file: `${d}/client/private_key.pem` };
}

/** The name every host answers to on the prometheus hosts (float-base-dns writes it). */
function hostName(ctx: Context, h: string): string {
  return `${h}.host.${ctx.model.globals.domain}`;
}

function service(ctx: Context, name: string): Service | undefined {
  return ctx.model.services.find((s) => s.name === name);
}
function hostsOf(ctx: Context, name: string): string[] {
  return ctx.schedule.assignments[name] ?? [];
}

/** Labels from the configuration as strings (Prometheus label values are strings), kept from Jinja. */
function labelValues(labels: Record<string, string | number | boolean> | undefined): Vars {
  const out: Vars = {};
  for (const k of Object.keys(labels ?? {}).sort(byCodePoint)) out[k] = dataString(String(labels![k]));
  return out;
}

/** `service-port`, as upstream float names service jobs (the reference: "the service name and the endpoint port"). */
function jobName(s: Service, port: number): string {
  return `${s.name}-${port}`;
}

/** The scrape jobs of every service instance's monitoring_endpoints. */
function serviceJobs(ctx: Context): Vars[] {
  const jobs: Vars[] = [];
  for (const s of ctx.model.services) {
    for (const e of s.monitoring_endpoints) {
      const job = jobName(s, e.port);
      const targets = hostsOf(ctx, s.name).map((h) => ({
        targets: [`${instanceName(ctx, h, s.name)}:${e.port}`],
        labels: { ...labelValues(e.labels), host: h, service: s.name, float_job: job },
      }));
      if (targets.length === 0) continue;
      jobs.push({
        job_name: job,
        scheme: e.scheme,
        metrics_path: dataString(e.metrics_path),
        ...(e.scrape_interval ? { scrape_interval: e.scrape_interval } : {}),
        ...(e.scheme === 'https' ? { tls_config: tlsConfig(PROMETHEUS) } : {}),
        static_configs: targets,
      });
    }
  }
  return jobs;
}

/** node-exporter on every host; nginx (through prometheus-nginx-exporter) and haproxy on the frontends. */
function hostJobs(ctx: Context): Vars[] {
  const jobs: Vars[] = [
    {
      job_name: 'node',
      scheme: 'http',
      metrics_path: '/metrics',
      static_configs: ctx.model.hosts.map((h) => ({
        targets: [`${hostName(ctx, h.name)}:${NODE_EXPORTER_PORT}`],
        labels: { host: h.name, service: 'node-exporter', float_job: 'node' },
      })),
    },
  ];
  const frontends = hostsOf(ctx, 'frontend');
  if (frontends.length > 0) {
    for (const [job, port] of [['frontend-nginx', NGINX_EXPORTER_PORT], ['frontend-haproxy', HAPROXY_METRICS_PORT]] as const) {
      jobs.push({
        job_name: job,
        scheme: 'http',
        metrics_path: '/metrics',
        static_configs: frontends.map((h) => ({
          targets: [`${hostName(ctx, h)}:${port}`],
          labels: { host: h, service: 'frontend', float_job: job },
        })),
      });
    }
  }
  return jobs;
}

/** A blackbox module name for a public server name (module names are map keys: keep them plain). */
function publicModule(serverName: string, scheme: string): string {
  return `public_${scheme}_${serverName.replace(/[^A-Za-z0-9]/g, '_')}`;
}

/** HTTP codes a public endpoint may answer and still count as serving: 2xx, and 401/403 (served, but protected). */
const PUBLIC_OK_CODES = [200, 201, 202, 203, 204, 205, 206, 401, 403];

export interface Probes {
  /** Blackbox modules (blackbox.yml `modules`). */
  modules: Record<string, Vars>;
  /** Targets, each with its labels (module, kind, host, service). */
  targets: Array<{ target: string; labels: Vars }>;
}

/**
 * The probes float's prober runs: every HTTP public endpoint through every frontend
 * (with the public name as Host and SNI, recording the certificate's expiry), an SSH
 * connection to every host (reachability), and a TLS handshake with every https
 * monitoring endpoint (the internal certificates' expiry).
 */
export function probes(ctx: Context): Probes {
  const modules: Record<string, Vars> = {
    host_ssh: { prober: 'tcp', timeout: '5s', tcp: { preferred_ip_protocol: 'ip4', ip_protocol_fallback: true } },
    internal_tls: {
      prober: 'tcp',
      timeout: '5s',
      tcp: { preferred_ip_protocol: 'ip4', ip_protocol_fallback: true, tls: true, tls_config: tlsConfig(PROBER) },
    },
  };
  const targets: Probes['targets'] = [];
  const testing = ctx.model.globals.testing;
  const frontends = hostsOf(ctx, 'frontend');
  for (const s of ctx.model.services) {
    for (const e of s.public_endpoints) {
      if (e.mode === 'tls-passthrough') continue;
      const scheme = e.mode === 'http' ? 'http' : 'https';
      for (const name of endpointServerNames(ctx, e)) {
        const module = publicModule(name, scheme);
        modules[module] = {
          prober: 'http',
          timeout: '5s',
          http: {
            preferred_ip_protocol: 'ip4',
            ip_protocol_fallback: true,
            valid_status_codes: PUBLIC_OK_CODES,
            headers: { Host: name },
            // Self-signed until ACME certificates exist (testing: true): the expiry is still recorded.
            ...(scheme === 'https' ? { tls_config: { server_name: name, insecure_skip_verify: testing } } : {}),
          },
        };
        for (const f of frontends) {
          targets.push({
            target: `${scheme}://${hostName(ctx, f)}${endpointPath(e.path)}`,
            labels: { __param_module: module, probe: 'public_endpoint', host: f, service: s.name, server_name: name },
          });
        }
      }
    }
  }
  for (const h of ctx.model.hosts) {
    targets.push({ target: `${hostName(ctx, h.name)}:22`, labels: { __param_module: 'host_ssh', probe: 'host', host: h.name, service: 'host' } });
  }
  for (const s of ctx.model.services) {
    for (const e of s.monitoring_endpoints) {
      if (e.scheme !== 'https') continue;
      for (const h of hostsOf(ctx, s.name)) {
        targets.push({
          target: `${instanceName(ctx, h, s.name)}:${e.port}`,
          labels: { __param_module: 'internal_tls', probe: 'internal_tls', host: h, service: s.name },
        });
      }
    }
  }
  return { modules, targets };
}

/** One probe scrape job per prober instance: blackbox's /probe, the target passed as a parameter. */
function probeJobs(ctx: Context, prober: Service, p: Probes): Vars[] {
  const port = prober.monitoring_endpoints[0]?.port ?? BLACKBOX_DEFAULT_PORT;
  const g = ctx.model.globals;
  const interval = g.prometheus_probe_scrape_interval ?? g.prometheus_scrape_interval;
  return hostsOf(ctx, PROBER).map((ph) => ({
    job_name: `probe-${ph}`,
    scheme: 'http',
    metrics_path: '/probe',
    ...(interval ? { scrape_interval: interval } : {}),
    static_configs: p.targets.map((t) => ({ targets: [t.target], labels: { ...t.labels, float_job: 'probe', prober: PROBER, prober_host: ph } })),
    relabel_configs: [
      { source_labels: ['__address__'], target_label: '__param_target' },
      { source_labels: ['__param_target'], target_label: 'instance' },
      { target_label: '__address__', replacement: `${instanceName(ctx, ph, PROBER)}:${port}` },
    ],
  }));
}

/**
 * Group variables of the monitoring services' groups (`prometheus`, `alertmanager`,
 * `prober`); empty when the configuration has no `prometheus` service.
 */
export function monitoringGroupVars(ctx: Context): Record<string, Record<string, Vars>> {
  if (!service(ctx, PROMETHEUS)) return {};
  const prober = service(ctx, PROBER);
  const p = probes(ctx);
  const out: Record<string, Record<string, Vars>> = {};
  const alertmanagers = hostsOf(ctx, ALERTMANAGER).map((h) => `${instanceName(ctx, h, ALERTMANAGER)}:${ALERTMANAGER_PORT}`);
  // group -> file -> variables (as derive's groupVars).
  out[PROMETHEUS] = {
    float_monitoring: {
      float_prometheus: {
        scrape_configs: [...hostJobs(ctx), ...serviceJobs(ctx), ...(prober ? probeJobs(ctx, prober, p) : [])],
        alertmanagers,
        // Probe alert timeouts: one per prober service (prober_alert_timeout, default 5m).
        probe_alert_timeouts: prober ? [{ prober: PROBER, for: prober.prober_alert_timeout ?? DEFAULT_PROBER_ALERT_TIMEOUT }] : [],
        rules_dir: ctx.model.config.prometheus_rules_dir ?? '',
      },
    },
  };
  if (service(ctx, ALERTMANAGER)) {
    const peers = hostsOf(ctx, ALERTMANAGER).map((h) => `${instanceName(ctx, h, ALERTMANAGER)}:${ALERTMANAGER_CLUSTER_PORT}`);
    out[ALERTMANAGER] = { float_monitoring: { float_alertmanager: { peers } } };
  }
  if (prober) out[PROBER] = { float_monitoring: { float_prober: { modules: p.modules } } };
  return out;
}

/** Firewall rules of the host-level exporters: open to the prometheus hosts only. */
export function monitoringFirewallRules(ctx: Context, h: Host): FirewallRule[] {
  if (!service(ctx, PROMETHEUS)) return [];
  const rules: FirewallRule[] = [{ port: NODE_EXPORTER_PORT, protocols: ['tcp'], service: 'node-exporter', reason: 'monitoring', sources: 'scrapers' }];
  if (hostsOf(ctx, 'frontend').includes(h.name)) {
    rules.push({ port: NGINX_EXPORTER_PORT, protocols: ['tcp'], service: 'frontend', reason: 'monitoring', sources: 'scrapers' });
    rules.push({ port: HAPROXY_METRICS_PORT, protocols: ['tcp'], service: 'frontend', reason: 'monitoring', sources: 'scrapers' });
  }
  return rules;
}
