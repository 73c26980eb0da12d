// What every derivation shares, computed once from the model and the schedule, and
// the public names of an endpoint. Its own module so that derive.ts and
// public-dns.ts both read it without importing each other.
import type { Model } from '../config/load.js';
import type { Host } from '../config/schema/host.js';
import type { Service } from '../config/schema/service.js';
import type { ScheduleResult } from '../scheduler/types.js';
import { byCodePoint } from './names.js';

/** Everything the derivations share, computed once. */
export interface Context {
  model: Model;
  schedule: ScheduleResult;
  hostsByName: Map<string, Host>;
  /** host -> services scheduled there (sorted). */
  servicesOnHost: Map<string, Service[]>;
  /** host -> DNS view id (hosts with the same overlays share a view). */
  viewOf: Map<string, string>;
  /** "service\0host" -> the host's 0-based position in the service's sorted hosts. */
  instanceIndex: Map<string, number>;
}

export function makeContext(model: Model, schedule: ScheduleResult): Context {
  const hostsByName = new Map(model.hosts.map((h) => [h.name, h]));
  const servicesOnHost = new Map<string, Service[]>(model.hosts.map((h) => [h.name, []]));
  for (const s of model.services) for (const h of schedule.assignments[s.name] ?? []) servicesOnHost.get(h)?.push(s);
  const viewOf = new Map(model.hosts.map((h) => [h.name, viewKey(h)]));
  const instanceIndex = new Map<string, number>();
  for (const [svc, hosts] of Object.entries(schedule.assignments)) hosts.forEach((h, i) => instanceIndex.set(`${svc}\u0000${h}`, i));
  return { model, schedule, hostsByName, servicesOnHost, viewOf, instanceIndex };
}

/** The overlays a host is on, sorted: hosts with equal keys see the same DNS map. */
function viewKey(h: Host): string {
  return Object.keys(h.overlays).sort(byCodePoint).join(',');
}

/** The name of a service's instance on a host, `host.service.domain` (the DNS map's `host.svc`). */
export function instanceName(ctx: Context, host: string, service: string): string {
  return `${host}.${service}.${ctx.model.globals.domain}`;
}

/** Public names of an endpoint: name.<each domain_public>, plus its domains. */
export function endpointServerNames(ctx: Context, e: { name?: string; domains?: string[] }): string[] {
  const names = e.name ? ctx.model.globals.domain_public.map((d) => `${e.name}.${d}`) : [];
  return [...new Set([...names, ...(e.domains ?? [])])];
}
