// Central logs, as plain data for the roles (float-base-logs on every host,
// float-infra-log-collector on the hosts running the log-collector service):
// where to send, whom to accept, how to tag a journal entry with its service,
// how long to keep. Pure.
import type { Host } from '../config/schema/host.js';
import {
  LOG_CLIENT_CREDENTIAL,
  LOG_COLLECTOR_PORT,
  LOG_COLLECTOR_SERVICE,
  logForward,
  logKeepDays,
} from '../config/logs.js';
import type { Context } from './context.js';
import { byCodePoint, containerTag, containerUnit } from './names.js';
import type { HostCredential, Vars } from './types.js';

/** Hosts running the log collector, in schedule order. */
function collectorHosts(ctx: Context): string[] {
  return ctx.schedule.assignments[LOG_COLLECTOR_SERVICE] ?? [];
}

/** Whether the fleet collects logs at all (the log-collector service runs somewhere). */
export function logsEnabled(ctx: Context): boolean {
  return collectorHosts(ctx).length > 0;
}

/**
 * The name in a host's log client certificate: `<host>.log-client.<domain>`. No
 * other certificate of the CA can carry it: credential names have no dots, and a
 * service or credential named `log-client` is refused (F2130).
 */
export function logClientName(ctx: Context, host: string): string {
  return `${host}.${LOG_CLIENT_CREDENTIAL}.${ctx.model.globals.domain}`;
}

/** The client credential every host presents to the collectors (only when there are collectors). */
export function logClientCredential(ctx: Context, h: Host): HostCredential | undefined {
  if (!logsEnabled(ctx)) return undefined;
  return {
    name: LOG_CLIENT_CREDENTIAL,
    service: '',
    enable_client: true,
    enable_server: false,
    client_cert_mode: 'client',
    server_cert_mode: 'server',
    client_names: [logClientName(ctx, h.name)],
    server_names: [],
    server_ips: [],
  };
}

/**
 * Global variables (group_vars/all/logs.yml):
 * - `float_log_collectors`: each collector instance's name (in its server
 *   certificate, resolvable on every host) and port; clients send a copy to each;
 * - `float_log_client_names`: the certificate names the collectors accept, one per
 *   fleet host; `float_log_hosts`: the host names a message may claim;
 * - `float_log_keep_days`, `float_log_forward` (log_forward_uri parsed, or null).
 */
export function logGlobals(ctx: Context): Vars {
  const d = ctx.model.globals.domain;
  const hosts = ctx.model.hosts.map((h) => h.name).sort(byCodePoint);
  return {
    float_log_collectors: collectorHosts(ctx).map((h) => ({ host: h, name: `${h}.${LOG_COLLECTOR_SERVICE}.${d}`, port: LOG_COLLECTOR_PORT })),
    float_log_client_names: logsEnabled(ctx) ? hosts.map((h) => logClientName(ctx, h)) : [],
    float_log_hosts: hosts,
    float_log_keep_days: logKeepDays(ctx.model.globals),
    float_log_forward: logForward(ctx.model.globals) ?? null,
  };
}

/**
 * Host variable `float_log_units`: systemd unit (and container name) -> the service
 * and container it belongs to, for the units float runs on this host. The journal
 * entries of a container carry both its unit (`_SYSTEMD_UNIT`, conmon runs in it)
 * and its name (`CONTAINER_NAME`).
 */
export function logUnits(ctx: Context, h: Host): Record<string, { service: string; container: string }> {
  const out: Record<string, { service: string; container: string }> = {};
  for (const s of ctx.servicesOnHost.get(h.name)!) {
    for (const u of s.systemd_services) out[u] = { service: s.name, container: '' };
    for (const c of s.containers) {
      out[containerUnit(s.name, c.name)] = { service: s.name, container: c.name };
      out[containerTag(s.name, c.name)] = { service: s.name, container: c.name };
    }
  }
  return out;
}
