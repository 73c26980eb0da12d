// Checks on the monitoring attributes (monitoring_endpoints, prober_alert_timeout,
// the monitoring globals, prometheus_rules_dir): what Prometheus and Alertmanager
// would refuse, reported at load time with a position instead of failing a run.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Diagnostic } from './diagnostics.js';
import type { Model } from './load.js';
import { locate } from './source.js';
import { svcPos } from './positions.js';

/** A Prometheus duration: 1y2w3d4h5m6s7ms, at least one part, no spaces. */
export const PROMETHEUS_DURATION_RE = /^(?=\d)(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$/;
/** A Prometheus label name; names starting with `__` are reserved. */
export const LABEL_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Labels float sets on every target itself. */
export const FLOAT_LABELS = ['host', 'service', 'float_job', 'instance', 'job'];
/** Receiver names: they become Alertmanager receiver names. */
const RECEIVER_NAME_RE = /^[A-Za-z0-9_.-]+$/;

/** Global variables holding a Prometheus duration. */
const DURATION_GLOBALS = [
  'prometheus_tsdb_retention',
  'prometheus_scrape_interval',
  'prometheus_probe_scrape_interval',
  'prometheus_evaluation_interval',
  'prometheus_alert_for',
  'alertmanager_group_wait',
  'alertmanager_group_interval',
  'alertmanager_repeat_interval',
] as const;

/** A non-zero Prometheus duration. */
export const isDuration = (v: string): boolean => PROMETHEUS_DURATION_RE.test(v) && /[1-9]/.test(v);

export function monitoringChecks(model: Model): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const s of model.services) {
    s.monitoring_endpoints.forEach((e, i) => {
      const base = ['monitoring_endpoints', i];
      for (const k of Object.keys(e.labels ?? {})) {
        if (!LABEL_NAME_RE.test(k) || k.startsWith('__')) {
          out.push({ code: 'F2110', severity: 'error', message: `service '${s.name}': label name '${k}' is not a Prometheus label name (letters, digits, underscores, not starting with a digit or '__')`, pos: svcPos(model, s.name, [...base, 'labels', k], true), subject: `${s.name}.labels.${k}` });
        } else if (FLOAT_LABELS.includes(k)) {
          out.push({ code: 'F2110', severity: 'error', message: `service '${s.name}': label '${k}' is set by float on every target (${FLOAT_LABELS.join(', ')}); choose another name`, pos: svcPos(model, s.name, [...base, 'labels', k], true), subject: `${s.name}.labels.${k}` });
        }
        // Values with control characters are refused with every other string (F1010, hostile.ts).
      }
      if (e.scrape_interval !== undefined && !isDuration(e.scrape_interval)) {
        out.push({ code: 'F2111', severity: 'error', message: `service '${s.name}': scrape_interval '${e.scrape_interval}' is not a Prometheus duration (like 30s, 1m, 1h30m)`, pos: svcPos(model, s.name, [...base, 'scrape_interval']), subject: `${s.name}.scrape_interval` });
      }
      if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(e.metrics_path)) {
        out.push({ code: 'F2112', severity: 'error', message: `service '${s.name}': metrics_path '${e.metrics_path}' must be an absolute URL path (starting with '/', no spaces, query or fragment)`, pos: svcPos(model, s.name, [...base, 'metrics_path']), subject: `${s.name}.metrics_path` });
      }
    });
    if (s.prober_alert_timeout !== undefined && !isDuration(s.prober_alert_timeout)) {
      out.push({ code: 'F2111', severity: 'error', message: `service '${s.name}': prober_alert_timeout '${s.prober_alert_timeout}' is not a Prometheus duration (like 5m, 30m)`, pos: svcPos(model, s.name, ['prober_alert_timeout']), subject: `${s.name}.prober_alert_timeout` });
    }
  }
  const g = model.globals as Record<string, unknown>;
  for (const name of DURATION_GLOBALS) {
    const v = g[name];
    if (typeof v === 'string' && !isDuration(v)) {
      out.push({ code: 'F2111', severity: 'error', message: `global variable '${name}': '${v}' is not a Prometheus duration (like 10s, 5m, 90d)`, pos: locate(model.sources.globals, [name]), subject: name });
    }
  }
  const seen = new Set<string>();
  (model.globals.alert_webhook_receivers ?? []).forEach((r, i) => {
    const pos = locate(model.sources.globals, ['alert_webhook_receivers', i]);
    if (!RECEIVER_NAME_RE.test(r.name)) out.push({ code: 'F2113', severity: 'error', message: `alert_webhook_receivers: name '${r.name}' may hold only letters, digits, '.', '_' and '-'`, pos, subject: `alert_webhook_receivers.${r.name}` });
    else if (seen.has(r.name)) out.push({ code: 'F2113', severity: 'error', message: `alert_webhook_receivers: name '${r.name}' is used twice`, pos, subject: `alert_webhook_receivers.${r.name}` });
    seen.add(r.name);
    if (!/^https?:\/\/[^\s/?#]+[^\s]*$/.test(r.url)) out.push({ code: 'F2113', severity: 'error', message: `alert_webhook_receivers: url of '${r.name}' must be an http:// or https:// URL`, pos: locate(model.sources.globals, ['alert_webhook_receivers', i, 'url']), subject: `alert_webhook_receivers.${r.name}.url` });
  });
  const email = model.globals.alert_email;
  if (typeof email === 'string' && email !== '' && !/^[^\s@]+@[^\s@]+$/.test(email)) {
    out.push({ code: 'F2113', severity: 'error', message: `alert_email '${email}' is not an email address`, pos: locate(model.sources.globals, ['alert_email']), subject: 'alert_email' });
  }
  if (typeof email === 'string' && email !== '' && !model.globals.alertmanager_smtp_smarthost) {
    out.push({ code: 'F2113', severity: 'error', message: 'alert_email is set but alertmanager_smtp_smarthost is not: Alertmanager needs a server to send through (host:port)', pos: locate(model.sources.globals, ['alert_email']), subject: 'alert_email' });
  }
  const dir = model.config.prometheus_rules_dir;
  if (dir !== undefined) {
    let ok = false;
    try {
      ok = statSync(dir).isDirectory();
    } catch {
      ok = false;
    }
    if (!ok) out.push({ code: 'F2115', severity: 'error', message: `prometheus_rules_dir '${dir}' is not a directory`, pos: locate(model.sources.config, ['prometheus_rules_dir']), subject: 'prometheus_rules_dir' });
  }
  return out;
}

/** The operator's rule files: *.yml and *.yaml directly in prometheus_rules_dir, sorted. */
export function operatorRuleFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => /^[A-Za-z0-9][A-Za-z0-9._-]*\.ya?ml$/.test(f))
      .sort()
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/**
 * `promtool check rules` on every operator rule file, when promtool is installed
 * (float check only: the role runs the same check on the host before installing them).
 * Returns diagnostics, and whether promtool ran.
 */
export function checkOperatorRules(model: Model): { diagnostics: Diagnostic[]; checked: boolean } {
  const dir = model.config.prometheus_rules_dir;
  if (!dir) return { diagnostics: [], checked: false };
  const files = operatorRuleFiles(dir);
  if (files.length === 0) return { diagnostics: [], checked: false };
  const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return { diagnostics: [], checked: false };
  const out: Diagnostic[] = [];
  for (const f of files) {
    const r = spawnSync('promtool', ['check', 'rules', f], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) {
      const why = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').map((l) => l.trim()).filter((l) => l && !/^Checking /.test(l)).join('; ');
      out.push({ code: 'F2114', severity: 'error', message: `promtool check rules refuses this file: ${why || `exit ${r.status}`}`, pos: { file: f, line: 1, col: 1 }, subject: f });
    }
  }
  return { diagnostics: out, checked: true };
}
