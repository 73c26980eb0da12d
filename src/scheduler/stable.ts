// The default scheduler: rendezvous (highest-random-weight) hashing per service,
// seeded by a stable value from the configuration, with a per-host load bound
// ("consistent hashing with bounded loads"). A pure function of its input: the
// order of hosts, services or groups in the files does not matter, and adding or
// removing a host moves only the instances that must move.
import { weight } from './hash.js';
import type { ScheduleError, ScheduleInput, ScheduleResult, SchedService } from './types.js';

/** How far above its expected share a host may be loaded before it is passed over. */
const LOAD_SLACK = 1.25;

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Group -> hosts that may receive instances (turndown hosts excluded). */
function groupMembers(input: ScheduleInput): Map<string, Set<string>> {
  const groups = new Map<string, Set<string>>([['all', new Set()]]);
  for (const h of input.hosts) {
    if (h.turndown) continue;
    for (const g of ['all', ...h.groups]) {
      if (!groups.has(g)) groups.set(g, new Set());
      groups.get(g)!.add(h.name);
    }
  }
  return groups;
}

/** Every group some host is in, turndown hosts included (a group of only turndown hosts exists but is empty). */
function knownGroups(input: ScheduleInput): Set<string> {
  return new Set(['all', ...input.hosts.flatMap((h) => h.groups)]);
}

function schedulingGroups(s: SchedService): { attribute: 'scheduling_group' | 'scheduling_groups'; groups: string[] } {
  if (s.scheduling_group) return { attribute: 'scheduling_group', groups: [s.scheduling_group] };
  if (s.scheduling_groups) return { attribute: 'scheduling_groups', groups: s.scheduling_groups };
  return { attribute: 'scheduling_group', groups: ['all'] };
}

/**
 * Processing order: schedule_with targets before the services that follow them,
 * otherwise by (scheduling_order, name). Cycles and unknown targets are errors.
 */
function processingOrder(services: SchedService[], errors: ScheduleError[]): SchedService[] {
  const byNameMap = new Map(services.map((s) => [s.name, s]));
  const sorted = [...services].sort((a, b) => (a.scheduling_order ?? 0) - (b.scheduling_order ?? 0) || byName(a.name, b.name));
  const out: SchedService[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (s: SchedService, chain: string[]): void => {
    if (state.get(s.name) === 'done') return;
    if (state.get(s.name) === 'visiting') {
      errors.push({
        service: s.name,
        attribute: 'schedule_with',
        code: 'F2006',
        message: `service '${s.name}': schedule_with forms a cycle (${[...chain, s.name].join(' -> ')})`,
      });
      return;
    }
    state.set(s.name, 'visiting');
    if (s.schedule_with) {
      const target = byNameMap.get(s.schedule_with);
      if (!target) {
        errors.push({
          service: s.name,
          attribute: 'schedule_with',
          code: 'F2005',
          message: `service '${s.name}': schedule_with names unknown service '${s.schedule_with}'`,
        });
      } else visit(target, [...chain, s.name]);
    }
    state.set(s.name, 'done');
    out.push(s);
  };
  for (const s of sorted) visit(s, []);
  return out;
}

interface Placement {
  hosts: string[];
  candidates: string[];
}

/**
 * Each host's expected number of instances if every service spread evenly over
 * its candidates; the load bound is a fixed slack above it. Computed from the
 * whole configuration up front, so it does not depend on processing order.
 */
function expectedLoads(services: SchedService[], candidatesOf: (s: SchedService) => string[]): Map<string, number> {
  const load = new Map<string, number>();
  for (const s of services) {
    const c = candidatesOf(s);
    if (c.length === 0) continue;
    const n = s.num_instances === 'all' ? c.length : Math.min(s.num_instances, c.length);
    for (const h of c) load.set(h, (load.get(h) ?? 0) + n / c.length);
  }
  return load;
}

/** Candidates ranked by rendezvous weight for this service, best first. */
function rank(seed: string, service: string, hosts: string[]): string[] {
  const w = new Map(hosts.map((h) => [h, weight(seed, 'place', service, h)]));
  return [...hosts].sort((a, b) => w.get(b)! - w.get(a)! || byName(a, b));
}

export function scheduleStable(input: ScheduleInput): ScheduleResult {
  const errors: ScheduleError[] = [];
  const groups = groupMembers(input);
  const known = knownGroups(input);
  const order = processingOrder(input.services, errors);
  const byNameMap = new Map(input.services.map((s) => [s.name, s]));

  // Candidates from groups (schedule_with services follow their target's candidates).
  const groupCandidates = (s: SchedService): string[] => {
    const root = rootOf(s);
    const set = new Set<string>();
    for (const g of schedulingGroups(root).groups) for (const h of groups.get(g) ?? []) set.add(h);
    return [...set].sort(byName);
  };
  const rootOf = (s: SchedService): SchedService => {
    const seen = new Set<string>();
    let cur = s;
    while (cur.schedule_with && byNameMap.has(cur.schedule_with) && !seen.has(cur.name)) {
      seen.add(cur.name);
      cur = byNameMap.get(cur.schedule_with)!;
    }
    return cur;
  };
  const expected = expectedLoads(
    order.filter((s) => !s.schedule_with),
    groupCandidates,
  );
  const bound = (h: string) => Math.max(1, Math.ceil(LOAD_SLACK * (expected.get(h) ?? 0)));

  const load = new Map<string, number>();
  const placed = new Map<string, Placement>();
  const masters: Record<string, string> = {};
  const failed = new Set<string>();

  for (const s of order) {
    let placement: Placement | undefined;
    if (s.schedule_with) {
      const target = placed.get(s.schedule_with);
      if (!target) {
        failed.add(s.name); // the cause (unknown target, cycle, failed target) is reported elsewhere
        continue;
      }
      placement = { hosts: target.hosts, candidates: target.candidates };
    } else {
      placement = placeService(input.seed, s, groups, known, load, bound, errors);
      if (!placement) {
        failed.add(s.name);
        continue;
      }
    }
    if (s.master_election) {
      const m = electMaster(input.seed, s, placement, groups, errors);
      if (!m) {
        failed.add(s.name);
        continue;
      }
      masters[s.name] = m;
    }
    for (const h of placement.hosts) load.set(h, (load.get(h) ?? 0) + 1);
    placed.set(s.name, placement);
  }

  const assignments: Record<string, string[]> = {};
  for (const s of [...input.services].sort((a, b) => byName(a.name, b.name))) {
    assignments[s.name] = failed.has(s.name) ? [] : [...(placed.get(s.name)?.hosts ?? [])].sort(byName);
  }
  return { assignments, masters, errors };
}

function placeService(
  seed: string,
  s: SchedService,
  groups: Map<string, Set<string>>,
  known: Set<string>,
  load: Map<string, number>,
  bound: (h: string) => number,
  errors: ScheduleError[],
): Placement | undefined {
  const { attribute, groups: names } = schedulingGroups(s);
  const unknown = names.filter((g) => !known.has(g));
  if (unknown.length > 0) {
    errors.push({
      service: s.name,
      attribute,
      code: 'F2003',
      message: `service '${s.name}': no host is in group${unknown.length > 1 ? 's' : ''} ${unknown.map((g) => `'${g}'`).join(', ')}`,
    });
    return undefined;
  }
  const set = new Set<string>();
  for (const g of names) for (const h of groups.get(g) ?? []) set.add(h);
  const candidates = [...set].sort(byName);
  const where = names.length === 1 ? `group '${names[0]}'` : `groups ${names.map((g) => `'${g}'`).join(', ')}`;
  if (s.num_instances === 'all') return { hosts: candidates, candidates };
  if (s.num_instances > candidates.length) {
    errors.push({
      service: s.name,
      attribute: 'num_instances',
      code: 'F2004',
      message: `service '${s.name}' wants ${s.num_instances} instances but ${where} has only ${candidates.length} host${candidates.length === 1 ? '' : 's'} available`,
    });
    return undefined;
  }
  const ranked = rank(seed, s.name, candidates);
  const chosen: string[] = [];
  for (const h of ranked) {
    if (chosen.length === s.num_instances) break;
    if ((load.get(h) ?? 0) < bound(h)) chosen.push(h);
  }
  // Every candidate at its bound: overflow onto the best-ranked remaining hosts.
  for (const h of ranked) {
    if (chosen.length === s.num_instances) break;
    if (!chosen.includes(h)) chosen.push(h);
  }
  return { hosts: chosen, candidates };
}

/**
 * The master is the instance with the highest master weight, among the instances
 * in master_scheduling_group when set. If no instance is in that group, the
 * worst-ranked instance is swapped for the best-ranked candidate in it.
 */
function electMaster(
  seed: string,
  s: SchedService,
  p: Placement,
  groups: Map<string, Set<string>>,
  errors: ScheduleError[],
): string | undefined {
  let pool = p.hosts;
  if (s.master_scheduling_group) {
    const group = groups.get(s.master_scheduling_group) ?? new Set<string>();
    pool = p.hosts.filter((h) => group.has(h));
    if (pool.length === 0) {
      const inGroup = rank(seed, s.name, p.candidates.filter((h) => group.has(h)));
      if (inGroup.length === 0 || s.schedule_with) {
        errors.push({
          service: s.name,
          attribute: 'master_scheduling_group',
          code: 'F2003',
          message: `service '${s.name}': none of its candidate hosts is in master_scheduling_group '${s.master_scheduling_group}'`,
        });
        return undefined;
      }
      const ranked = rank(seed, s.name, p.hosts);
      const worst = ranked[ranked.length - 1];
      p.hosts = p.hosts.map((h) => (h === worst ? inGroup[0] : h));
      pool = [inGroup[0]];
    }
  }
  if (pool.length === 0) {
    errors.push({
      service: s.name,
      attribute: 'num_instances',
      code: 'F2004',
      message: `service '${s.name}' has master_election but no host available to run it`,
    });
    return undefined;
  }
  return pool.reduce((best, h) => {
    const wb = weight(seed, 'master', s.name, best);
    const wh = weight(seed, 'master', s.name, h);
    return wh > wb || (wh === wb && h < best) ? h : best;
  });
}
