// Global configuration variables (group_vars/all and hosts.yml group_vars.all).
// Known variables are typed; everything else is an Ansible variable and passes through.
import { Validator } from 'ip-num';
import { z } from 'zod';
import { backupRetention } from './backup-retention.js';

const netOverlay = z.looseObject({
  name: z.string().regex(/^[A-Za-z0-9_-]+$/, { message: 'overlay names are alphanumerics, dashes, underscores' }),
  network: z.string().min(1),
  /** UDP port of the WireGuard mesh; default 51820 + the overlay's index (src/config/overlay.ts). */
  port: z.number().int().min(1).max(65535).optional(),
  /** Hosts in these groups are members and get an address from `float overlay assign`. */
  groups: z.array(z.string().min(1)).optional(),
  /** Seconds between keepalives to each peer (WireGuard's PersistentKeepalive); unset: none. */
  persistent_keepalive: z.number().int().min(1).max(65535).optional(),
});

export const admin = z.looseObject({
  name: z.string().min(1),
  email: z.string().optional(),
  password: z.string().optional(),
  totp_secret: z.string().optional(),
  ssh_keys: z.array(z.string()).default([]),
  webauthn_registrations: z.array(z.record(z.string(), z.unknown())).optional(),
  u2f_registrations: z.array(z.record(z.string(), z.unknown())).optional(),
});

const staticHostEntry = z.looseObject({
  host: z.string().min(1),
  addr: z.string().min(1),
});

/**
 * A flag of a service float does not run itself: a boolean, or a Jinja expression
 * (these are Ansible variables, and `enable_elasticsearch: "{{ not testing }}"` is fair).
 */
const ansibleFlag = z.union([z.boolean(), z.string().regex(/\{\{[\s\S]*\}\}/, { message: 'expected a boolean or a "{{ … }}" expression' })], {
  error: 'expected a boolean or a "{{ … }}" expression',
});

const named = z.looseObject({ name: z.string().min(1) });

/** An IPv4 or IPv6 network in CIDR notation (address/prefix). */
const cidr = z.string().refine((v) => Validator.isValidIPv4CidrNotation(v)[0] || Validator.isValidIPv6CidrNotation(v)[0], {
  message: 'expected a network in CIDR notation, like 192.0.2.0/24 or 2001:db8::/32',
});

/** Variables of the reference's "Global configuration variables" beyond the core ones: typed, no defaults (the roles have theirs). */
const referenceGlobals = {
  // Authentication and SSO
  enable_keystore: ansibleFlag.optional(),
  sso_server_url: z.string().optional(),
  sso_extra_allowed_services: z.array(z.string()).optional(),
  sso_allowed_exchanges: z.array(z.looseObject({ src_regexp: z.string(), dst_regexp: z.string() })).optional(),
  // Traffic router
  nginx_cache_keys_mem: z.string().optional(),
  nginx_cache_custom_params: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  // Logging
  enable_elasticsearch: ansibleFlag.optional(),
  es_log_keep_days: z.record(z.string(), z.number().int().min(0)).optional(),
  // Monitoring
  alert_runbook_fmt: z.string().optional(),
  prometheus_tsdb_retention: z.string().optional(),
  prometheus_lts_tsdb_retention: z.string().optional(),
  prometheus_scrape_interval: z.string().optional(),
  prometheus_lts_scrape_interval: z.string().optional(),
  prometheus_probe_scrape_interval: z.string().optional(),
  prometheus_external_targets: z.array(named.extend({ targets: z.array(z.string()) })).optional(),
  prometheus_federated_targets: z.array(z.unknown()).optional(),
  prometheus_additional_blackbox_probers: z.array(named).optional(),
  alert_webhook_receivers: z.array(named.extend({ url: z.string().min(1), send_resolved: z.boolean().optional() })).optional(),
  // Monitoring, beyond the reference (float-infra-prometheus, float-infra-alertmanager)
  prometheus_evaluation_interval: z.string().optional(),
  prometheus_alert_for: z.string().optional(),
  alertmanager_group_wait: z.string().optional(),
  alertmanager_group_interval: z.string().optional(),
  alertmanager_repeat_interval: z.string().optional(),
  // Third-party services
  acme_private_key: z.string().optional(),
  docker_registry_url: z.string().optional(),
  docker_registry_username: z.string().optional(),
  docker_registry_password: z.string().optional(),
  mail_relay: z
    .looseObject({
      server: z.string().min(1),
      port: z.union([z.number().int().min(1).max(65535), z.string().min(1)]),
      user: z.string(),
      password: z.string(),
      root_user: z.string(),
    })
    .optional(),
  alert_email: z.string().nullable().optional(),
  alertmanager_smtp_from: z.string().optional(),
  alertmanager_smtp_smarthost: z.string().optional(),
  alertmanager_smtp_require_tls: ansibleFlag.optional(),
  alertmanager_smtp_auth_username: z.string().optional(),
  alertmanager_smtp_auth_password: z.string().optional(),
  alertmanager_smtp_hello: z.string().optional(),
  backup_repository_uri: z.string().optional(),
  backup_repository_restic_password: z.string().optional(),
  backup_retention: backupRetention.optional(),
  backup_litestream_config: z.record(z.string(), z.unknown()).optional(),
  backup_litestream_credentials: z.record(z.string(), z.string()).optional(),
};

export const globals = z.looseObject({
  domain: z.string().min(1),
  domain_public: z.array(z.string().min(1)).min(1),
  testing: z.boolean().default(true),
  /** The reference says buster; float targets a current Debian, as its roles do. */
  float_debian_dist: z.string().default('bookworm'),
  net_overlays: z.array(netOverlay).default([]),
  admins: z.array(admin).default([]),
  enable_ssh: z.boolean().default(true),
  ssh_host_key_principal: z.string().default('{{ inventory_hostname }}.{{ domain }}'),
  static_host_entries: z.array(staticHostEntry).default([]),
  apt_proxy: z.string().optional(),
  nginx_global_custom_headers: z.record(z.string(), z.string()).default({}),
  /** Strict-Transport-Security max-age on HTTPS endpoints, seconds; 0 = not sent (float-infra-nginx). */
  nginx_hsts_max_age: z.number().int().min(0).optional(),
  /** When not empty, port 22 is open to these networks only (float-base-firewall). */
  ssh_allowed_from: z.array(cidr).optional(),
  nginx_top_level_domain_redirects: z.record(z.string(), z.string()).default({}),
  volumes_vg: z.string().default('vg0'),
  /** Days the log collector keeps logs (float-infra-log-collector); es_log_keep_days is read when this is unset. */
  log_keep_days: z.number().int().min(1).max(36500).optional(),
  /** Also forward every collected log line to this syslog receiver: udp://, tcp:// or tls://HOST:PORT (src/config/logs.ts). */
  log_forward_uri: z.string().optional(),
  /** What admin-only endpoints (enable_sso_proxy) ask of an admin; default per admin: certificate+password with a password, else certificate. */
  admin_auth: z.enum(['certificate', 'password', 'certificate+password']).optional(),
  /** A personal account per admin on every host (float-base-ssh). */
  admin_accounts: z.boolean().default(false),
  /** Size of volumes_vg (LVM units, e.g. 100G); a host variable of the same name wins. float check warns when the volumes scheduled on a host exceed it (F2164). */
  volumes_vg_size: z.union([z.string(), z.number()]).optional(),
  ...referenceGlobals,
});

export type Globals = z.infer<typeof globals>;
export type NetOverlay = z.infer<typeof netOverlay>;
