// Attributes float accepts (they are in the reference, and configurations written
// for upstream float carry them) but that no role acts on yet. Each one is a
// warning (F2030) naming the attribute and what is missing, so an operator never
// believes a setting took effect when it did not.
//
// When a role implements one of these, remove its entry here (and its test).
import type { Diagnostic, Position } from './diagnostics.js';
import type { Model } from './load.js';
import type { Service } from './schema/service.js';
import { at, locate } from './source.js';
import { svcPos } from './positions.js';

/**
 * Where an attribute is written, in a service: the service itself, or each item of
 * one of its endpoint lists (its key in the service).
 */
const IN_SERVICE = {
  service: { list: undefined, noun: 'service' },
  public_endpoint: { list: 'public_endpoints', noun: 'a public endpoint of service' },
  monitoring_endpoint: { list: 'monitoring_endpoints', noun: 'a monitoring endpoint of service' },
} as const;

export interface Unimplemented {
  /** Where the attribute is written: in a service (see IN_SERVICE), or a global variable. */
  kind: keyof typeof IN_SERVICE | 'global';
  attribute: string;
  /** What no role does yet, completing "accepted, but …". */
  missing: string;
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
export function checkUnimplemented(model: Model): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const u of UNIMPLEMENTED) {
    /** `what` names the attribute where it is used: "'datasets' of service 'x'", "global variable 'mail_relay'". */
    const uses: Array<{ pos: Position; what: string }> = [];
    if (u.kind === 'global') {
      const written = at(model.sources.globals, [u.attribute]);
      if (written && isSet(model.globals[u.attribute])) uses.push({ pos: locate(model.sources.globals, [u.attribute], { key: true }), what: `global variable '${u.attribute}'` });
    } else {
      const { list, noun } = IN_SERVICE[u.kind];
      for (const s of model.services) {
        const places: Array<{ path: PropertyKey[]; value: unknown }> = list
          ? (s[list] as Array<Record<string, unknown>>).map((e, i) => ({ path: [list, i, u.attribute], value: e[u.attribute] }))
          : [{ path: [u.attribute], value: s[u.attribute as keyof Service] }];
        // Only where written: an attribute with a schema default is set everywhere.
        for (const p of places) {
          if (isSet(p.value) && at(model.sources.services, [s.name, ...p.path])) uses.push({ pos: svcPos(model, s.name, p.path, true), what: `'${u.attribute}' of ${noun} '${s.name}'` });
        }
      }
    }
    if (uses.length === 0) continue;
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
