// The scheduling mistakes that depend on the configuration alone, whatever the
// scheduler: a group no host is in (F2003), a schedule_with naming an unknown
// service (F2005) or forming a cycle (F2006). Checked here and only here: both
// schedulers start from this list, and skip the services it names (and the
// services that follow them) instead of reporting them again. What depends on a
// scheduler's own rules (not enough hosts once turndown hosts are left out, no
// candidate in master_scheduling_group) stays with that scheduler.
import type { ScheduleError, ScheduleInput, SchedService } from './types.js';

/** Every group some host is in, `all` included (turndown hosts count: their groups exist). */
export function knownGroups(input: ScheduleInput): Set<string> {
  return new Set(['all', ...input.hosts.flatMap((h) => h.groups)]);
}

export function checkScheduleInput(input: ScheduleInput): ScheduleError[] {
  const errors: ScheduleError[] = [];
  const known = knownGroups(input);
  const byName = new Map(input.services.map((s) => [s.name, s]));
  const unknown = (s: SchedService, group: string, attribute: ScheduleError['attribute'], index?: number) =>
    errors.push({ service: s.name, attribute, ...(index === undefined ? {} : { index }), code: 'F2003', message: `service '${s.name}': no host is in group '${group}'` });
  for (const s of input.services) {
    // scheduling_group wins over scheduling_groups (as upstream reads them), and schedule_with over both.
    if (!s.schedule_with) {
      if (s.scheduling_group !== undefined) {
        if (!known.has(s.scheduling_group)) unknown(s, s.scheduling_group, 'scheduling_group');
      } else {
        (s.scheduling_groups ?? []).forEach((g, i) => {
          if (!known.has(g)) unknown(s, g, 'scheduling_groups', i);
        });
      }
    }
    // master_scheduling_group only matters with master_election (upstream ignores it otherwise).
    if (s.master_election && s.master_scheduling_group !== undefined && !known.has(s.master_scheduling_group)) {
      unknown(s, s.master_scheduling_group, 'master_scheduling_group');
    }
    if (s.schedule_with === undefined) continue;
    if (!byName.has(s.schedule_with)) {
      errors.push({ service: s.name, attribute: 'schedule_with', code: 'F2005', message: `service '${s.name}': schedule_with names unknown service '${s.schedule_with}'` });
      continue;
    }
    // Follow the chain; a cycle comes back to this service (a chain running into a
    // cycle it is not part of is reported on the cycle's members only).
    const chain = [s.name];
    for (let cur = byName.get(s.schedule_with); cur; cur = cur.schedule_with !== undefined ? byName.get(cur.schedule_with) : undefined) {
      if (cur.name === s.name) {
        errors.push({ service: s.name, attribute: 'schedule_with', code: 'F2006', message: `service '${s.name}': schedule_with forms a cycle (${[...chain, s.name].join(' -> ')})` });
        break;
      }
      if (chain.includes(cur.name)) break;
      chain.push(cur.name);
    }
  }
  return errors;
}

/**
 * The services a scheduler must leave out: those `errors` name, and every service
 * whose schedule_with chain reaches one of them (they run nowhere, silently: the
 * cause is reported on the chain). An unknown master_scheduling_group only fails
 * the election, which each scheduler handles as it handles an empty one (without
 * reporting it again: see masterGroupKnown).
 */
export function unschedulable(input: ScheduleInput, errors: ScheduleError[]): Set<string> {
  const out = new Set(errors.filter((e) => e.attribute !== 'master_scheduling_group').map((e) => e.service));
  const byName = new Map(input.services.map((s) => [s.name, s]));
  for (const s of input.services) {
    const seen = new Set<string>();
    for (let cur: SchedService | undefined = s; cur && !seen.has(cur.name); cur = cur.schedule_with !== undefined ? byName.get(cur.schedule_with) : undefined) {
      seen.add(cur.name);
      if (out.has(cur.name)) {
        out.add(s.name);
        break;
      }
    }
  }
  return out;
}

/** False when `s` names a master_scheduling_group no host is in: checkScheduleInput reported it; the election just fails. */
export function masterGroupKnown(s: SchedService, known: Set<string>): boolean {
  return s.master_scheduling_group === undefined || known.has(s.master_scheduling_group);
}
