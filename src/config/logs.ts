// Load-time checks and readings of the log collection settings: the name every
// host's log client certificate is issued under, the retention (log_keep_days,
// or upstream's es_log_keep_days), and the optional external receiver
// (log_forward_uri), which ends up in an rsyslog configuration and so is parsed
// here, strictly, before anything is written.
import { isIP } from 'node:net';
import type { Diagnostic } from './diagnostics.js';
import type { Model } from './load.js';
import type { Globals } from './schema/globals.js';
import { at, locate } from './source.js';
import { svcPos } from './positions.js';

/** The client credential every host presents to the log collectors. */
export const LOG_CLIENT_CREDENTIAL = 'log-client';

/** The built-in service that receives the fleet's logs. */
export const LOG_COLLECTOR_SERVICE = 'log-collector';

/** The syslog-over-TLS port the collectors listen on (RFC 5425). */
export const LOG_COLLECTOR_PORT = 6514;

export const DEFAULT_LOG_KEEP_DAYS = 14;

export interface LogForward {
  protocol: 'udp' | 'tcp' | 'tls';
  host: string;
  port: number;
}

const DNS_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * `udp://HOST:PORT`, `tcp://HOST:PORT` or `tls://HOST:PORT` (HOST a DNS name, an
 * IPv4 address or a bracketed IPv6 address; PORT defaults to 514, 6514 for tls).
 * Returns the receiver, or why the value is refused.
 */
export function parseLogForwardUri(uri: string): LogForward | string {
  const m = /^(udp|tcp|tls):\/\/(\[[0-9A-Fa-f:.]+\]|[^/:[\]]+)(?::(\d{1,5}))?\/?$/.exec(uri);
  if (!m) return 'expected udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT';
  const protocol = m[1] as LogForward['protocol'];
  const host = m[2].startsWith('[') ? m[2].slice(1, -1) : m[2];
  if (m[2].startsWith('[') ? isIP(host) !== 6 : !(isIP(host) === 4 || DNS_NAME.test(host))) return `'${host}' is not a host name or an IP address`;
  const port = m[3] === undefined ? (protocol === 'tls' ? 6514 : 514) : Number(m[3]);
  if (port < 1 || port > 65535) return `port ${port} is not between 1 and 65535`;
  return { protocol, host, port };
}

/** Days the collectors keep logs: log_keep_days, else the longest of es_log_keep_days (upstream's per-index retention), else 14. */
export function logKeepDays(g: Globals): number {
  if (g.log_keep_days !== undefined) return g.log_keep_days;
  const es = Object.values(g.es_log_keep_days ?? {}).filter((n) => n > 0);
  return es.length ? Math.max(...es) : DEFAULT_LOG_KEEP_DAYS;
}

/** The receiver of log_forward_uri, when set and valid (checkLogs refuses an invalid one first). */
export function logForward(g: Globals): LogForward | undefined {
  if (g.log_forward_uri === undefined || g.log_forward_uri === '') return undefined;
  const r = parseLogForwardUri(g.log_forward_uri);
  return typeof r === 'string' ? undefined : r;
}

export function checkLogs(model: Model): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const s of model.services) {
    if (s.name === LOG_CLIENT_CREDENTIAL) {
      out.push({
        code: 'F2130',
        severity: 'error',
        message: `service name '${s.name}' is reserved: its certificates would carry the names of the log client certificates every host presents to the log collectors`,
        pos: svcPos(model, s.name, [], true),
        subject: s.name,
      });
    }
    s.service_credentials.forEach((c, i) => {
      if (c.name !== LOG_CLIENT_CREDENTIAL) return;
      out.push({
        code: 'F2130',
        severity: 'error',
        message: `credential name '${c.name}' is taken by the log client credential every host carries; choose another name`,
        pos: svcPos(model, s.name, ['service_credentials', i, 'name']),
        subject: c.name,
      });
    });
  }
  const uri = model.globals.log_forward_uri;
  if (uri !== undefined && uri !== '') {
    const r = parseLogForwardUri(uri);
    if (typeof r === 'string') {
      const pos = at(model.sources.globals, ['log_forward_uri']) ? locate(model.sources.globals, ['log_forward_uri']) : undefined;
      out.push({ code: 'F2131', severity: 'error', message: `log_forward_uri ${JSON.stringify(uri)}: ${r}`, pos, subject: 'log_forward_uri' });
    }
  }
  return out;
}
