// What moves between two schedules: instances added/removed per service, master changes.
import { byCodePoint } from '../core/compare.js';
import type { ScheduleResult } from './types.js';

export interface ServiceDiff {
  service: string;
  added: string[];
  removed: string[];
  master?: { from?: string; to?: string };
}

export interface ScheduleDiff {
  /** Services with any change, by name. */
  services: ServiceDiff[];
  /** Instances present before and absent after (the ones whose data must move). */
  removed: number;
  /** Instances absent before and present after. */
  added: number;
  /** Services whose master is different (or appears, or goes). */
  masters: number;
}


export function diffSchedules(before: ScheduleResult, after: ScheduleResult): ScheduleDiff {
  const names = [...new Set([...Object.keys(before.assignments), ...Object.keys(after.assignments)])].sort(byCodePoint);
  const out: ScheduleDiff = { services: [], removed: 0, added: 0, masters: 0 };
  for (const s of names) {
    const b = new Set(before.assignments[s] ?? []);
    const a = new Set(after.assignments[s] ?? []);
    const added = [...a].filter((h) => !b.has(h)).sort(byCodePoint);
    const removed = [...b].filter((h) => !a.has(h)).sort(byCodePoint);
    const d: ServiceDiff = { service: s, added, removed };
    if (before.masters[s] !== after.masters[s]) d.master = { from: before.masters[s], to: after.masters[s] };
    if (added.length === 0 && removed.length === 0 && !d.master) continue;
    out.services.push(d);
    out.removed += removed.length;
    out.added += added.length;
    if (d.master) out.masters++;
  }
  return out;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

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
  lines.push(`${plural(d.removed, 'instance')} would move (${d.removed} removed, ${d.added} added), ${plural(d.masters, 'master')} would change`);
  return lines.join('\n') + '\n';
}
