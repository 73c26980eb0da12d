// `float status`: the schedule's instances matched with Prometheus' `up` series and
// the firing alerts, as data and as a table. Pure.
//
// A series belongs to an instance by its labels: `service` (or `float_service`) names
// the service and `host` (or, lacking it, `instance`) the host, compared by its first
// DNS label without a port. An instance with several targets is down when any is.
import { columns } from '../core/columns.js';
import { byCodePoint } from '../inventory/names.js';
import type { ScheduleResult } from '../scheduler/types.js';
import type { Sample } from './prometheus.js';

export type InstanceState = 'up' | 'down' | 'unknown';

export interface StatusReport {
  services: { name: string; instances: { host: string; state: InstanceState; targets: number; targets_up: number }[] }[];
  alerts: { alertname: string; severity?: string; service?: string; host?: string; labels: Record<string, string> }[];
  /** Targets whose labels name no scheduled instance. */
  other_targets: { service: string; host: string; up: boolean; labels: Record<string, string> }[];
  summary: { instances: number; up: number; down: number; unknown: number; alerts: number };
}

const short = (h: string | undefined): string => (h ?? '').split(':')[0].split('.')[0];

export function seriesKey(m: Record<string, string>): { service: string; host: string } {
  return { service: m.service ?? m.float_service ?? '', host: short(m.host ?? m.instance) };
}

export function statusReport(schedule: ScheduleResult, services: string[], up: Sample[], alerts: Sample[]): StatusReport {
  const byKey = new Map<string, Sample[]>();
  for (const s of up) {
    const k = seriesKey(s.metric);
    const key = `${k.service}\0${k.host}`;
    byKey.set(key, [...(byKey.get(key) ?? []), s]);
  }
  const used = new Set<string>();
  const summary = { instances: 0, up: 0, down: 0, unknown: 0, alerts: 0 };
  const svc = services.map((name) => ({
    name,
    instances: (schedule.assignments[name] ?? []).map((host) => {
      const key = `${name}\0${host}`;
      used.add(key);
      const ts = byKey.get(key) ?? [];
      const targetsUp = ts.filter((s) => s.value[1] === '1').length;
      const state: InstanceState = ts.length === 0 ? 'unknown' : targetsUp === ts.length ? 'up' : 'down';
      summary.instances++;
      summary[state]++;
      return { host, state, targets: ts.length, targets_up: targetsUp };
    }),
  }));
  const other = [...byKey.entries()]
    .filter(([k]) => !used.has(k))
    .flatMap(([, ss]) => ss.map((s) => ({ ...seriesKey(s.metric), up: s.value[1] === '1', labels: s.metric })))
    .sort((a, b) => byCodePoint(a.service, b.service) || byCodePoint(a.host, b.host) || byCodePoint(JSON.stringify(a.labels), JSON.stringify(b.labels)));
  const al = alerts
    .filter((s) => (s.metric.alertstate ?? 'firing') === 'firing')
    .map((s) => {
      const k = seriesKey(s.metric);
      return {
        alertname: s.metric.alertname ?? '',
        ...(s.metric.severity ? { severity: s.metric.severity } : {}),
        ...(k.service ? { service: k.service } : {}),
        ...(k.host ? { host: k.host } : {}),
        labels: s.metric,
      };
    })
    .sort((a, b) => byCodePoint(a.alertname, b.alertname) || byCodePoint(a.service ?? '', b.service ?? '') || byCodePoint(a.host ?? '', b.host ?? ''));
  summary.alerts = al.length;
  return { services: svc, alerts: al, other_targets: other, summary };
}

/** Label values come from Prometheus: control characters are not passed to the terminal. */
const clean = (s: string): string => s.replace(/[\x00-\x1f\x7f-\x9f]/g, '?');

/** The report as text: one line per instance, then the firing alerts. */
export function formatStatus(r: StatusReport): string {
  const rows = [['SERVICE', 'HOST', 'STATE', 'TARGETS UP']];
  for (const s of r.services) for (const i of s.instances) rows.push([s.name, i.host, i.state, i.targets ? `${i.targets_up}/${i.targets}` : '-']);
  let out = columns(rows);
  const { instances, up, down, unknown, alerts } = r.summary;
  out += `\n${instances} instances: ${up} up, ${down} down, ${unknown} without metrics\n`;
  if (alerts === 0) out += 'no alerts firing\n';
  else {
    out += `${alerts} alert${alerts === 1 ? '' : 's'} firing:\n`;
    for (const a of r.alerts) {
      const where = [a.service ? `service=${a.service}` : '', a.host ? `host=${a.host}` : '', a.severity ? `severity=${a.severity}` : ''].filter(Boolean).join(' ');
      out += `  ${clean(a.alertname)}${where ? '  ' + clean(where) : ''}\n`;
    }
  }
  const downOther = r.other_targets.filter((t) => !t.up);
  if (downOther.length) {
    out += `${downOther.length} other target${downOther.length === 1 ? '' : 's'} down:\n`;
    for (const t of downOther) out += `  ${clean(t.labels.job ?? '')} ${clean(t.labels.instance ?? '')}\n`.replace(/ +\n$/, '\n');
  }
  return out;
}
