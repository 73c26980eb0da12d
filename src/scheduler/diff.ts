// What moves between two schedules: instances added/removed per service, master changes.
import type { ScheduleResult } from './types.js';

export interface ServiceDiff {
  service: string;
  added: string[];
  removed: string[];
  master?: { from?: string; to?: string };
}

export interface ScheduleDiff {
  services: ServiceDiff[];
  /** Instances present before and absent after (the ones whose data must move). */
  moved: number;
}

export function diffSchedules(before: ScheduleResult, after: ScheduleResult): ScheduleDiff {
  const names = [...new Set([...Object.keys(before.assignments), ...Object.keys(after.assignments)])].sort();
  const services: ServiceDiff[] = [];
  let moved = 0;
  for (const s of names) {
    const b = new Set(before.assignments[s] ?? []);
    const a = new Set(after.assignments[s] ?? []);
    const added = [...a].filter((h) => !b.has(h)).sort();
    const removed = [...b].filter((h) => !a.has(h)).sort();
    const mb = before.masters[s];
    const ma = after.masters[s];
    const d: ServiceDiff = { service: s, added, removed };
    if (mb !== ma) d.master = { from: mb, to: ma };
    if (added.length || removed.length || d.master) services.push(d);
    moved += removed.length + (d.master && !removed.length && !added.length ? 1 : 0);
  }
  return { services, moved };
}

export function formatDiff(d: ScheduleDiff, from: string, to: string, json = false): string {
  if (json) return JSON.stringify(d) + '\n';
  if (d.services.length === 0) return `no instances move between ${from} and ${to}\n`;
  const lines = [`changes from ${from} to ${to}:`];
  for (const s of d.services) {
    lines.push(`  ${s.service}:`);
    for (const h of s.added) lines.push(`    + ${h}`);
    for (const h of s.removed) lines.push(`    - ${h}`);
    if (s.master) lines.push(`    master: ${s.master.from ?? '(none)'} -> ${s.master.to ?? '(none)'}`);
  }
  lines.push(`${d.moved} instance${d.moved === 1 ? '' : 's'} would move`);
  return lines.join('\n') + '\n';
}
