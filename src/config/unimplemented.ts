// Attributes float accepts (they are in the reference, and configurations written
// for upstream float carry them) but that no role acts on yet. Each one is a
// warning (F2030) naming the attribute and what is missing, so an operator never
// believes a setting took effect when it did not. An attribute whose silent
// neglect would open something up can be made an error when true (F2031).
//
// When a role implements one of these, remove its entry here (and its test).
import type { Diagnostic, Position } from './diagnostics.js';
import type { Model } from './load.js';
import type { Service } from './schema/service.js';
import { at, locate } from './source.js';
import { svcPos } from './positions.js';

export interface Unimplemented {
  /** Where the attribute is written: a service attribute, a public endpoint attribute, or a global variable. */
  kind: 'service' | 'public_endpoint' | 'monitoring_endpoint' | 'global';
  attribute: string;
  /** What no role does yet, completing "accepted, but …". */
  missing: string;
  /** Refused (F2031) instead of warned about, when set to true. */
  errorWhenTrue?: boolean;
}

const MONITORING_LTS = "float's monitoring has no long-term storage (prometheus-lts, Thanos) yet";
const MONITORING_EXTRA = 'float-infra-prometheus scrapes and probes only what the configuration describes, not extra or federated targets, yet';
const SSO = 'float runs no single sign-on service; admin-only endpoints (enable_sso_proxy) take an admin client certificate and/or password instead';
const LOGS = 'float collects logs with rsyslog into files on the log-collector hosts; no Elasticsearch runs';
const BACKUPS = 'float backs up datasets with restic only (no litestream)';

/** The one list: attribute -> what is missing. */
const UNIMPLEMENTED: readonly Unimplemented[] = [
  // Monitoring endpoints
  { kind: 'monitoring_endpoint', attribute: 'healthcheck_http_method', missing: "Prometheus' own scrape (the `up` series) is the instance's health check; no separate probe is sent" },
  // Global variables
  { kind: 'global', attribute: 'enable_keystore', missing: SSO },
  { kind: 'global', attribute: 'sso_server_url', missing: SSO },
  { kind: 'global', attribute: 'sso_extra_allowed_services', missing: SSO },
  { kind: 'global', attribute: 'sso_allowed_exchanges', missing: SSO },
  { kind: 'global', attribute: 'enable_elasticsearch', missing: LOGS },
  { kind: 'global', attribute: 'prometheus_lts_tsdb_retention', missing: MONITORING_LTS },
  { kind: 'global', attribute: 'prometheus_lts_scrape_interval', missing: MONITORING_LTS },
  { kind: 'global', attribute: 'prometheus_external_targets', missing: MONITORING_EXTRA },
  { kind: 'global', attribute: 'prometheus_federated_targets', missing: MONITORING_EXTRA },
  { kind: 'global', attribute: 'prometheus_additional_blackbox_probers', missing: MONITORING_EXTRA },
  { kind: 'global', attribute: 'acme_private_key', missing: 'the ACME client (certbot) registers its own account key' },
  { kind: 'global', attribute: 'backup_litestream_config', missing: BACKUPS },
  { kind: 'global', attribute: 'backup_litestream_credentials', missing: BACKUPS },
];

/** Set to something that would matter: a non-empty list or map, a value other than false/null. */
function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/**
 * One diagnostic per attribute (not per service: a fleet with fifty monitored
 * services gets one warning), at its first use, saying how many more there are.
 */
export function checkUnimplemented(model: Model, table: readonly Unimplemented[] = UNIMPLEMENTED): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const u of table) {
    /** `what` names the attribute where it is used: "'datasets' of service 'x'", "global variable 'mail_relay'". */
    const uses: Array<{ pos: Position; what: string; value: unknown }> = [];
    if (u.kind === 'service') {
      for (const s of model.services) {
        const v = s[u.attribute as keyof Service];
        // Only where written: an attribute with a default is set on every service.
        if (isSet(v) && at(model.sources.services, [s.name, u.attribute])) uses.push({ pos: svcPos(model, s.name, [u.attribute], true), what: `'${u.attribute}' of service '${s.name}'`, value: v });
      }
    } else if (u.kind === 'monitoring_endpoint') {
      for (const s of model.services) {
        s.monitoring_endpoints.forEach((e, i) => {
          const path = ['monitoring_endpoints', i, u.attribute];
          // Only where written: the schema gives it a default.
          if (at(model.sources.services, [s.name, ...path])) uses.push({ pos: svcPos(model, s.name, path, true), what: `'${u.attribute}' of a monitoring endpoint of service '${s.name}'`, value: (e as Record<string, unknown>)[u.attribute] });
        });
      }
    } else if (u.kind === 'public_endpoint') {
      for (const s of model.services) {
        s.public_endpoints.forEach((e, i) => {
          const v = (e as Record<string, unknown>)[u.attribute];
          if (isSet(v)) uses.push({ pos: svcPos(model, s.name, ['public_endpoints', i, u.attribute]), what: `'${u.attribute}' of a public endpoint of service '${s.name}'`, value: v });
        });
      }
    } else {
      const written = at(model.sources.globals, [u.attribute]);
      const v = model.globals[u.attribute];
      if (written && isSet(v)) uses.push({ pos: locate(model.sources.globals, [u.attribute], { key: true }), what: `global variable '${u.attribute}'`, value: v });
    }
    if (uses.length === 0) continue;
    if (u.errorWhenTrue) {
      for (const use of uses.filter((x) => x.value === true)) {
        out.push({
          code: 'F2031',
          severity: 'error',
          message: `${use.what} is true, which float cannot honour: ${u.missing}; remove it (or the endpoint) until float enforces it`,
          pos: use.pos,
          subject: u.attribute,
        });
      }
      continue;
    }
    const more = uses.length > 1 ? ` (and ${uses.length - 1} more use${uses.length > 2 ? 's' : ''})` : '';
    out.push({
      code: 'F2030',
      severity: 'warning',
      message: `${uses[0].what} is accepted but not acted on: ${u.missing}${more}`,
      pos: uses[0].pos,
      subject: u.attribute,
    });
  }
  return out;
}
