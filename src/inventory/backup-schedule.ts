// A dataset's `schedule` as systemd timer OnCalendar= expressions: a cron line, a
// cron shorthand (@daily, …), or `@random_every <interval>`, which becomes a fixed
// offset inside the interval computed from the host, service and dataset names (a
// hash: the same on every compile, spread across the fleet, and unchanged for a
// host when other hosts are added). Pure functions: no clock, no randomness.
import { createHash } from 'node:crypto';

export class ScheduleError extends Error {}

const UNIT_SECONDS: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };

/** "1d", "12h", "1h30m", "90m", "1w": seconds. Throws ScheduleError. */
export function parseInterval(text: string): number {
  const t = text.trim();
  if (!/^(\d+[wdhms])+$/.test(t)) throw new ScheduleError(`'${text}' is not an interval (like 1d, 12h, 1h30m, 90m, 1w)`);
  let total = 0;
  for (const m of t.matchAll(/(\d+)([wdhms])/g)) total += Number(m[1]) * UNIT_SECONDS[m[2]];
  if (total <= 0) throw new ScheduleError(`interval '${text}' is zero`);
  return total;
}

/**
 * The offset (seconds, in [0, interval)) of host/service/dataset inside the
 * interval: the first 48 bits of SHA-256 over the three names, modulo the interval.
 */
export function randomEveryOffset(host: string, service: string, dataset: string, intervalSeconds: number): number {
  const digest = createHash('sha256').update(`${host}\u0000${service}\u0000${dataset}`).digest();
  return digest.readUIntBE(0, 6) % intervalSeconds;
}

const pad = (n: number) => String(n).padStart(2, '0');
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** `@random_every` as OnCalendar lines, for intervals that divide a day, or exactly one week. */
function randomEvery(intervalText: string, host: string, service: string, dataset: string): string[] {
  const interval = parseInterval(intervalText);
  const offset = randomEveryOffset(host, service, dataset, interval);
  if (interval === 604800) {
    const day = Math.floor(offset / 86400);
    const s = offset % 86400;
    return [`${WEEKDAYS[(day + 1) % 7]} *-*-* ${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`];
  }
  if (interval > 86400 || 86400 % interval !== 0 || interval < 60) {
    throw new ScheduleError(`@random_every ${intervalText}: the interval must divide a day (1m to 1d: 15m, 1h, 6h, 12h, 1d, …) or be one week (7d)`);
  }
  // Every run of the day, grouped by minute:second, each with its hours.
  const groups = new Map<string, number[]>();
  for (let t = offset; t < 86400; t += interval) {
    const key = `${pad(Math.floor((t % 3600) / 60))}:${pad(t % 60)}`;
    let hours = groups.get(key);
    if (!hours) groups.set(key, (hours = []));
    hours.push(Math.floor(t / 3600));
  }
  return [...groups].map(([ms, hours]) => `*-*-* ${hours.length === 24 ? '*' : hours.map(pad).join(',')}:${ms}`);
}

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: string[];
}
const FIELDS: CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

function cronValue(f: CronField, v: string): number {
  const named = f.names?.indexOf(v.toLowerCase()) ?? -1;
  const n = named >= 0 ? named + (f.name === 'month' ? 1 : 0) : /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < f.min || n > f.max) throw new ScheduleError(`cron ${f.name} '${v}' is not in ${f.min}-${f.max}`);
  return n;
}

/** One cron field as the set of values it matches; undefined for "every value". */
function cronField(f: CronField, text: string): number[] | undefined {
  if (text === '*') return undefined;
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new ScheduleError(`cron ${f.name} '${part}' is not understood`);
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1) throw new ScheduleError(`cron ${f.name} step '${m[2]}' must be at least 1`);
    let lo: number;
    let hi: number;
    if (m[1] === '*') [lo, hi] = [f.min, f.name === 'day of week' ? 6 : f.max];
    else if (m[1].includes('-')) {
      const [a, b] = m[1].split('-');
      [lo, hi] = [cronValue(f, a), cronValue(f, b)];
      if (hi < lo) throw new ScheduleError(`cron ${f.name} range '${m[1]}' is backwards`);
    } else {
      lo = cronValue(f, m[1]);
      hi = m[2] === undefined ? lo : f.max;
    }
    for (let v = lo; v <= hi; v += step) out.add(f.name === 'day of week' ? v % 7 : v);
  }
  const values = [...out].sort((a, b) => a - b);
  const full = f.name === 'day of week' ? 7 : f.max - f.min + 1;
  return values.length === full ? undefined : values;
}

/** A five-field cron line as one OnCalendar expression. */
function cron(text: string): string {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5) throw new ScheduleError(`'${text}' is neither a cron line (5 fields: minute hour day-of-month month day-of-week) nor @random_every <interval>`);
  const [min, hour, dom, mon, dow] = parts.map((p, i) => cronField(FIELDS[i], p));
  if (dom && dow) throw new ScheduleError(`'${text}' restricts both the day of month and the day of week, which cron and systemd read differently; restrict one`);
  const list = (v: number[] | undefined, two = true) => (v ? v.map((n) => (two ? pad(n) : String(n))).join(',') : '*');
  const days = dow ? `${dow.map((d) => WEEKDAYS[d]).join(',')} ` : '';
  return `${days}*-${list(mon)}-${list(dom)} ${list(hour)}:${list(min)}:00`;
}

const SHORTHANDS: Record<string, string> = {
  '@hourly': '*-*-* *:00:00',
  '@daily': '*-*-* 00:00:00',
  '@midnight': '*-*-* 00:00:00',
  '@weekly': 'Sun *-*-* 00:00:00',
  '@monthly': '*-*-01 00:00:00',
  '@yearly': '*-01-01 00:00:00',
  '@annually': '*-01-01 00:00:00',
};

/**
 * The OnCalendar= lines of a dataset's backup timer on `host`. Throws
 * ScheduleError with a message for the operator.
 */
export function onCalendar(schedule: string, host: string, service: string, dataset: string): string[] {
  const s = schedule.trim();
  const re = /^@random_every\s+(\S+)$/.exec(s);
  if (re) return randomEvery(re[1], host, service, dataset);
  if (s.startsWith('@random_every')) throw new ScheduleError(`'${schedule}': write @random_every <interval>, like @random_every 1d`);
  if (SHORTHANDS[s]) return [SHORTHANDS[s]];
  if (s.startsWith('@')) throw new ScheduleError(`'${schedule}' is not a schedule float knows (@random_every <interval>, @hourly, @daily, @weekly, @monthly, @yearly, or a cron line)`);
  return [cron(s)];
}

/** Checks a schedule without a host (the hash never fails). Returns the error message, if any. */
export function scheduleProblem(schedule: string): string | undefined {
  try {
    onCalendar(schedule, 'h', 's', 'd');
    return undefined;
  } catch (e) {
    if (e instanceof ScheduleError) return e.message;
    throw e;
  }
}
