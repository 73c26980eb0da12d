// The default scheduler: rendezvous (highest-random-weight) hashing per service,
// seeded by a stable value from the configuration, then a repair pass that moves
// instances off hosts loaded beyond a bound. A pure function of its input: the
// order of hosts, services or groups in the files does not matter, and adding or
// removing a host moves only the instances that must move.
//
// 1. Each service (with its schedule_with followers) takes its master(s) and then
//    its best-ranked candidates: pure rendezvous hashing, no coupling between
//    services, so a change to one service or host moves little.
// 2. Hosts above ceil(1.25 x their expected load) shed the instances they rank
//    worst for, to each service's next best host under the bound.
// 3. Followers (schedule_with) take their target's hosts.
import { Weights } from './hash.js';
import type { ScheduleError, ScheduleInput, ScheduleResult, SchedService } from './types.js';

/** How far above its expected share a host may be loaded before instances move off it. */
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
  // Placements do not depend on this order (each service is placed on its own,
  // and the repair pass goes host by host); it only fixes the order in which
  // errors are found and followers are listed.
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
  service: SchedService;
  hosts: string[];
  candidates: string[];
  /** Candidates best first. */
  ranked: string[];
  /** Instances this placement brings to each host: 1 + its followers. */
  cost: number;
  /** Hosts that must keep their instance (masters; every host for num_instances all). */
  fixed: Set<string>;
}

/** Candidates ranked by rendezvous weight for this service, best first. */
function rank(weights: Weights, service: string, hosts: string[]): string[] {
  const weightOf = weights.forService('place', service);
  const w = new Map(hosts.map((h) => [h, weightOf(h)]));
  return [...hosts].sort((a, b) => w.get(b)! - w.get(a)! || byName(a, b));
}

/**
 * The host with the highest master weight in `pool`, restricted to
 * master_scheduling_group when set (an error when no host of the pool is in it).
 * Elected among all candidates, not among the chosen instances, so the master
 * changes only when the candidates do.
 */
function electAmong(weights: Weights, s: SchedService, pool: string[], groups: Map<string, Set<string>>, errors: ScheduleError[]): string | undefined {
  let eligible = pool;
  if (s.master_scheduling_group) {
    const group = groups.get(s.master_scheduling_group) ?? new Set<string>();
    eligible = pool.filter((h) => group.has(h));
    if (eligible.length === 0) {
      errors.push({
        service: s.name,
        attribute: 'master_scheduling_group',
        code: 'F2003',
        message: `service '${s.name}': none of its candidate hosts is in master_scheduling_group '${s.master_scheduling_group}'`,
      });
      return undefined;
    }
  }
  if (eligible.length === 0) {
    errors.push({
      service: s.name,
      attribute: 'num_instances',
      code: 'F2004',
      message: `service '${s.name}' has master_election but no host available to run it`,
    });
    return undefined;
  }
  const masterWeight = weights.forService('master', s.name);
  return eligible.reduce((best, h) => {
    const wb = masterWeight(best);
    const wh = masterWeight(h);
    return wh > wb || (wh === wb && h < best) ? h : best;
  });
}

/** Candidate hosts of a service from its scheduling groups; undefined (with an error) when unusable. */
function candidatesOf(s: SchedService, groups: Map<string, Set<string>>, known: Set<string>, errors: ScheduleError[]): string[] | undefined {
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
  if (s.num_instances !== 'all' && s.num_instances > candidates.length) {
    const where = names.length === 1 ? `group '${names[0]}'` : `groups ${names.map((g) => `'${g}'`).join(', ')}`;
    errors.push({
      service: s.name,
      attribute: 'num_instances',
      code: 'F2004',
      message: `service '${s.name}' wants ${s.num_instances} instances but ${where} has only ${candidates.length} host${candidates.length === 1 ? '' : 's'} available`,
    });
    return undefined;
  }
  return candidates;
}

export function scheduleStable(input: ScheduleInput): ScheduleResult {
  const errors: ScheduleError[] = [];
  const groups = groupMembers(input);
  const known = knownGroups(input);
  const order = processingOrder(input.services, errors);
  const broken = new Set(errors.map((e) => e.service));
  const byNameMap = new Map(input.services.map((s) => [s.name, s]));
  const weights = new Weights(input.seed);

  // Followers of each root service (schedule_with, transitively); a follower of a
  // broken chain is dropped silently (the cause is reported on the chain).
  const rootOf = (s: SchedService): SchedService | undefined => {
    let cur = s;
    for (let i = 0; cur.schedule_with; i++) {
      const next = byNameMap.get(cur.schedule_with);
      if (!next || broken.has(cur.name) || i > byNameMap.size) return undefined;
      cur = next;
    }
    return cur;
  };
  const followers = new Map<string, SchedService[]>();
  for (const s of order) {
    if (!s.schedule_with) continue;
    const root = rootOf(s);
    if (root) followers.set(root.name, [...(followers.get(root.name) ?? []), s]);
  }

  // Phase 1: masters first, then the best-ranked candidates.
  const placements = new Map<string, Placement>();
  const masters: Record<string, string> = {};
  for (const s of order) {
    if (s.schedule_with) continue;
    const candidates = candidatesOf(s, groups, known, errors);
    if (!candidates) continue;
    const own = s.master_election ? electAmong(weights, s, candidates, groups, errors) : undefined;
    if (s.master_election && !own) continue;
    const ranked = rank(weights, s.name, candidates);
    const forced: string[] = own ? [own] : [];
    const mine = followers.get(s.name) ?? [];
    for (const f of mine) {
      if (!f.master_election) continue;
      const m = electAmong(weights, f, candidates, groups, errors);
      if (!m) continue;
      masters[f.name] = m;
      if (!forced.includes(m)) forced.push(m);
    }
    if (own) masters[s.name] = own;
    const n = s.num_instances === 'all' ? candidates.length : s.num_instances;
    // More masters than instances (followers' masters): keep the best-ranked ones.
    const keep = forced.length > n ? ranked.filter((h) => forced.includes(h)).slice(0, n) : forced;
    const hosts = [...keep];
    for (const h of ranked) {
      if (hosts.length >= n) break;
      if (!hosts.includes(h)) hosts.push(h);
    }
    placements.set(s.name, {
      service: s,
      hosts,
      candidates,
      ranked,
      cost: 1 + mine.length,
      fixed: new Set(s.num_instances === 'all' ? candidates : keep),
    });
  }

  const roundingOffset = weights.forService('round', '');
  repairLoads(placements, (h) => roundingOffset(h) / 2 ** 32);

  // Phase 3: followers take their root's hosts; a master that lost its instance is re-elected there.
  const assignments: Record<string, string[]> = {};
  for (const s of [...input.services].sort((a, b) => byName(a.name, b.name))) {
    const root = rootOf(s);
    const p = root ? placements.get(root.name) : undefined;
    assignments[s.name] = p ? [...p.hosts].sort(byName) : [];
    if (s.master_election && p && !p.hosts.includes(masters[s.name])) {
      const m = electAmong(weights, s, p.hosts, groups, errors);
      if (m) masters[s.name] = m;
      else delete masters[s.name];
    }
    if (!p) delete masters[s.name];
  }
  return { assignments, masters, errors };
}

/**
 * Each host's bound: LOAD_SLACK times its expected instances (every service
 * spread evenly over its candidates), rounded with a stable per-host offset in
 * [0, 1) rather than always up. The bound never exceeds the rounded-up value,
 * and when the expectations shift a little (a host or a service added) only a
 * few hosts' bounds change, instead of every host's at once.
 */
function limits(placements: Map<string, Placement>, offset: (host: string) => number): Map<string, number> {
  const expected = new Map<string, number>();
  for (const p of placements.values()) {
    for (const h of p.candidates) expected.set(h, (expected.get(h) ?? 0) + (p.cost * p.hosts.length) / p.candidates.length);
  }
  return new Map([...expected].map(([h, e]) => [h, Math.max(1, Math.floor(LOAD_SLACK * e + offset(h)))]));
}

/**
 * Phase 2: hosts above their bound shed the movable instances they rank worst
 * for, each to the best-ranked candidate of that service with room for it.
 * Moves only go to hosts under their bound, so no new excess is created.
 */
function repairLoads(placements: Map<string, Placement>, offset: (host: string) => number): void {
  const limit = limits(placements, offset);
  const load = new Map<string, number>();
  for (const p of placements.values()) for (const h of p.hosts) load.set(h, (load.get(h) ?? 0) + p.cost);
  const services = [...placements.values()].sort((a, b) => byName(a.service.name, b.service.name));
  for (const host of [...load.keys()].sort(byName)) {
    while (load.get(host)! > limit.get(host)!) {
      // Movable instances on this host, the ones it ranks worst for first.
      const movable = services
        .filter((p) => p.hosts.includes(host) && !p.fixed.has(host))
        .sort((a, b) => b.ranked.indexOf(host) / b.ranked.length - a.ranked.indexOf(host) / a.ranked.length || byName(a.service.name, b.service.name));
      let moved = false;
      for (const p of movable) {
        const to = p.ranked.find((h) => !p.hosts.includes(h) && (load.get(h) ?? 0) + p.cost <= limit.get(h)!);
        if (!to) continue;
        p.hosts = p.hosts.map((h) => (h === host ? to : h));
        load.set(host, load.get(host)! - p.cost);
        load.set(to, (load.get(to) ?? 0) + p.cost);
        moved = true;
        break;
      }
      if (!moved) break;
    }
  }
}
