// The service schema (services.yml), one zod object per concept. Attribute names
// and defaults follow the reference; unknown attributes are errors (strict objects).
import { z } from 'zod';
import { backupRetention } from './backup-retention.js';

/** Service, container and credential names: alphanumerics and dashes. */
export const NAME_RE = /^[A-Za-z0-9-]+$/;

const port = z.number().int().min(1).max(65535);
const certMode = z.enum(['client', 'server', 'both']);
const scheme = z.enum(['http', 'https']);

/** The client credential every host carries (for host-level agents), named after the host: no service may use this name. */
export const DEFAULT_CLIENT_CREDENTIAL = 'host';

const serviceCredential = z.strictObject({
  name: z.string().min(1),
  enable_client: z.boolean().default(true),
  client_cert_mode: certMode.default('client'),
  enable_server: z.boolean().default(true),
  server_cert_mode: certMode.default('server'),
  extra_san: z.array(z.string()).default([]),
});

const monitoringEndpoint = z.strictObject({
  name: z.string().optional(),
  port,
  scheme: scheme.default('https'),
  healthcheck_http_method: z.string().default('HEAD'),
  metrics_path: z.string().default('/metrics'),
  labels: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()], { error: 'label values must be strings, numbers or booleans' })).optional(),
  scrape_interval: z.string().optional(),
});

export const publicEndpoint = z.strictObject({
  name: z.string().optional(),
  domains: z.array(z.string()).optional(),
  port,
  scheme: scheme.default('https'),
  path: z.string().optional(),
  autoconfig: z.boolean().default(true),
  extra_nginx_config: z.string().optional(),
  enable_sso_proxy: z.boolean().default(false),
  /** Legacy attribute seen in older configurations; accepted and ignored. */
  type: z.string().optional(),
  /** Forwarding mode (beyond the reference): `proxy` terminates TLS at the frontend (default),
   * `tls-passthrough` forwards TLS by SNI to backends that terminate it, `http` serves plain
   * HTTP without redirecting to HTTPS. */
  mode: z.enum(['proxy', 'tls-passthrough', 'http']).default('proxy'),
});

/** The `/`-terminated location of a public endpoint's `path` (upstream: path.rstrip('/') + '/'). */
export function endpointPath(path: string | undefined): string {
  if (!path) return '/';
  const p = path.replace(/\/+$/, '') + '/';
  return p.startsWith('/') ? p : `/${p}`;
}

const horizontalEndpoint = z.strictObject({
  path: z.string().min(1),
  port,
  scheme: scheme.default('http'),
});

const publicTcpEndpoint = z.strictObject({
  name: z.string().min(1),
  port,
  public_port: port.optional(),
  use_proxy_protocol: z.boolean().default(false),
});

const publicOtherEndpoint = z.strictObject({
  name: z.string().min(1),
});

const envValue = z.union([z.string(), z.number(), z.boolean()], { error: 'environment values must be strings, numbers or booleans' });
/** Bind mounts, source: target; written as a map or (as in the reference's examples) a list of one-entry maps. */
const bindMounts = z.union([z.array(z.record(z.string(), z.string())), z.record(z.string(), z.string())], {
  error: 'volumes must be a map of source: target paths, or a list of such maps',
});

export const container = z
  .strictObject({
    name: z.string().min(1),
    image: z.string().min(1),
    port: port.optional(),
    ports: z.array(port).optional(),
    env: z.record(z.string(), envValue).default({}),
    /** Env values are data (never evaluated as Jinja) unless this is true: then Ansible templates them on the controller. */
    env_templates: z.boolean().optional(),
    docker_options: z.string().optional(),
    args: z.string().optional(),
    volumes: bindMounts.optional(),
    root: z.boolean().default(false),
    /** Default true, but false for containers running as root (the reference: "root … sets drop_capabilities to false"). */
    drop_capabilities: z.boolean().optional(),
    egress_policy: z.enum(['allow-all', 'internal', 'none']).default('allow-all'),
  })
  .transform((c) => ({ ...c, drop_capabilities: c.drop_capabilities ?? !c.root }));

export const dataset = z.strictObject({
  name: z.string().min(1),
  schedule: z.string().default('@random_every 1d'),
  path: z.string().optional(),
  backup_command: z.string().optional(),
  restore_command: z.string().optional(),
  on_master_only: z.boolean().default(false),
  sharded: z.boolean().default(false),
  owner: z.string().optional(),
  group: z.string().optional(),
  mode: z.union([z.string(), z.number()]).optional(),
  /** Replaces the global backup_retention for this dataset. */
  backup_retention: backupRetention.optional(),
});

export const volume = z.strictObject({
  name: z.string().min(1),
  path: z.string().min(1),
  size: z.string().optional(),
  owner: z.string().default('root'),
  group: z.string().default('root'),
  mode: z.union([z.string(), z.number()]).default('0755'),
});

const dependency = z.strictObject({
  client: z.string().min(1),
  server: z.string().min(1),
});

export const service = z.strictObject({
  // Scheduling
  scheduling_group: z.string().optional(),
  scheduling_groups: z.array(z.string()).optional(),
  num_instances: z
    .union([z.literal('all'), z.number().int().min(1)], { error: "num_instances must be 'all' or a positive integer" })
    .default('all'),
  master_election: z.boolean().default(false),
  master_scheduling_group: z.string().optional(),
  schedule_with: z.string().optional(),
  scheduling_order: z.number().int().optional(),
  enabled: z.boolean().default(true),
  // Credentials
  service_credentials: z.array(serviceCredential).default([]),
  // Monitoring
  monitoring_endpoints: z.array(monitoringEndpoint).default([]),
  prober_alert_timeout: z.string().optional(),
  // Traffic routing
  public_endpoints: z.array(publicEndpoint).default([]),
  horizontal_endpoints: z.array(horizontalEndpoint).default([]),
  public_tcp_endpoints: z.array(publicTcpEndpoint).default([]),
  public_other_endpoints: z.array(publicOtherEndpoint).default([]),
  skip_acme: z.boolean().default(false),
  skip_dns: z.boolean().default(false),
  // Compute units
  containers: z.array(container).default([]),
  systemd_services: z.array(z.string()).default([]),
  ports: z.array(port).default([]),
  // Data
  datasets: z.array(dataset).default([]),
  volumes: z.array(volume).default([]),
  // Documentation
  annotations: z
    .looseObject({
      summary: z.string().optional(),
      dependencies: z.array(dependency).optional(),
    })
    .default({}),
});

export type ServiceAttrs = z.infer<typeof service>;
export type Container = z.infer<typeof container>;
export type ServiceCredential = z.infer<typeof serviceCredential>;
export type PublicEndpoint = z.infer<typeof publicEndpoint>;
export type PublicTcpEndpoint = z.infer<typeof publicTcpEndpoint>;
export type HorizontalEndpoint = z.infer<typeof horizontalEndpoint>;
export type MonitoringEndpoint = z.infer<typeof monitoringEndpoint>;

/** A loaded service: its attributes with defaults applied, plus its name. */
export interface Service extends ServiceAttrs {
  name: string;
}
