// restic's `forget --keep-within* ` rules, written out independently of restic
// (restic 0.14, internal/restic/snapshot_policy.go): snapshots newest first; the
// durations count back from the newest snapshot of the group; a snapshot is kept
// when it is after (newest - within), or when it is the newest snapshot of its hour,
// day, ISO week, month or year among those after (newest - that duration). Times are
// in the hosts' time zone: these helpers take UTC wall-clock strings, as the test
// hosts run in UTC.

export interface Policy {
  within?: string;
  hourly?: string;
  daily?: string;
  weekly?: string;
}

/** restic's duration (y, m, d, h) subtracted from a time, as restic does: calendar fields, then hours. */
function minus(t: Date, duration: string): Date {
  const f: Record<string, number> = { y: 0, m: 0, d: 0, h: 0 };
  for (const m of duration.matchAll(/(\d+)([ymdh])/g)) f[m[2]] += Number(m[1]);
  const d = new Date(Date.UTC(t.getUTCFullYear() - f.y, t.getUTCMonth() - f.m, t.getUTCDate() - f.d, t.getUTCHours(), t.getUTCMinutes(), t.getUTCSeconds()));
  return new Date(d.getTime() - f.h * 3600_000);
}

function isoWeek(t: Date): number {
  const d = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((d.getTime() - yearStart.getTime()) / 86400_000 + 1) / 7);
  return d.getUTCFullYear() * 100 + week;
}

const BUCKETS: Array<[keyof Policy, (t: Date) => number]> = [
  ['hourly', (t) => t.getUTCFullYear() * 1_000_000 + (t.getUTCMonth() + 1) * 10_000 + t.getUTCDate() * 100 + t.getUTCHours()],
  ['daily', (t) => t.getUTCFullYear() * 10_000 + (t.getUTCMonth() + 1) * 100 + t.getUTCDate()],
  ['weekly', isoWeek],
];

/** The snapshot times ("YYYY-MM-DD HH:MM:SS", UTC) the policy keeps, newest first. */
export function kept(times: string[], p: Policy): string[] {
  const parse = (s: string) => new Date(s.replace(' ', 'T') + 'Z');
  const list = [...times].sort().reverse();
  const latest = parse(list[0]);
  const last: Record<string, number | undefined> = {};
  const out: string[] = [];
  for (const s of list) {
    const t = parse(s);
    let keep = false;
    if (p.within && t > minus(latest, p.within)) keep = true;
    for (const [k, bucket] of BUCKETS) {
      const d = p[k];
      if (!d || !(t > minus(latest, d))) continue;
      const v = bucket(t);
      if (v !== last[k]) {
        keep = true;
        last[k] = v;
      }
    }
    if (keep) out.push(s);
  }
  return out;
}
