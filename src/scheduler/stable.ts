// The default scheduler: rendezvous (highest-random-weight) hashing per service,
// seeded by a stable value from the configuration, with a per-host load bound
// ("consistent hashing with bounded loads"). A pure function of its input: the
// order of hosts, services or groups in the files does not matter, and adding or
// removing a host moves few instances besides the ones that must move.
//
// 1. Each service (with its schedule_with followers as one bundle) ranks its
//    candidates by a rendezvous weight, and elects its master(s) among them; a
//    master and every host of a num_instances 'all' service are fixed placements.
// 2. Each host gets a bound of at most ceil(1.25 x its expected load); the
//    remaining instances are placed by deferred acceptance with the same
//    weights on both sides: the (service, host) pairs are taken in decreasing
//    weight (lower scheduling_order first) and a pair is accepted while the
//    service needs instances and the host has room. With the same weights on
//    both sides the outcome is the unique stable matching, whatever the order in
//    which the input lists things.
// 3. Followers (schedule_with) take their target's hosts.
//
// The bound is what costs churn: when a host is added or removed the expected
// loads shift, some bounds change, and a host whose bound grows takes back an
// instance it had turned away (one whose bound shrinks sheds one). Each host
// therefore rounds its bound up at its own point within half an instance (the
// hosts with the highest natural demand first, as they need the room most), so
// a small shift changes a few bounds instead of all of a group's at once. What no
// stateless scheduler can avoid: a master moves when an added host wins its
// election (hosts a, b, c: whoever is master of {a,b,c} is not master of the
// pair without it, so adding it back moves a master that still runs there).
import { byCodePoint } from '../core/compare.js';
import { checkScheduleInput, knownGroups, masterGroupKnown, unschedulable } from './check.js';
import { Weights } from './hash.js';
import type { ScheduleError, ScheduleInput, ScheduleResult, SchedService } from './types.js';

/** The balance target: no host above ceil(LOAD_SLACK x its expected load). */
const LOAD_SLACK = 1.25;

const byName = byCodePoint;

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


function schedulingGroups(s: SchedService): { attribute: 'scheduling_group' | 'scheduling_groups'; groups: string[] } {
  if (s.scheduling_group !== undefined) return { attribute: 'scheduling_group', groups: [s.scheduling_group] };
  if (s.scheduling_groups) return { attribute: 'scheduling_groups', groups: s.scheduling_groups };
  return { attribute: 'scheduling_group', groups: ['all'] };
}

/**
 * Processing order: schedule_with targets before the services that follow them,
 * otherwise by (scheduling_order, name). Unknown targets and cycles are reported
 * by checkScheduleInput; here they only end the walk.
 */
function processingOrder(services: SchedService[]): SchedService[] {
  const byNameMap = new Map(services.map((s) => [s.name, s]));
  // Placements do not depend on this order (scheduling_order acts in the
  // assignment itself, see Proposals); it only fixes the order in which errors
  // are found and followers are listed. scheduling_order defaults to -1 as upstream.
  const sorted = [...services].sort((a, b) => (a.scheduling_order ?? -1) - (b.scheduling_order ?? -1) || byName(a.name, b.name));
  const out: SchedService[] = [];
  const seen = new Set<string>();
  const visit = (s: SchedService): void => {
    if (seen.has(s.name)) return;
    seen.add(s.name);
    const target = s.schedule_with ? byNameMap.get(s.schedule_with) : undefined;
    if (target) visit(target);
    out.push(s);
  };
  for (const s of sorted) visit(s);
  return out;
}

interface Placement {
  service: SchedService;
  /** Sort position of the service name: ties in the assignment break on it. */
  index: number;
  candidates: string[];
  /** Candidates best first, and their weights (same order). */
  ranked: string[];
  weights: number[];
  /** Instances wanted: num_instances, or every candidate for 'all'. */
  n: number;
  /** Instances this placement brings to each host: 1 + its followers. */
  cost: number;
  /** Hosts that must keep their instance (masters; every host for num_instances all). */
  fixed: string[];
  /** The hosts chosen; starts with `fixed`. */
  hosts: string[];
}

/** Candidates ranked by rendezvous weight for this service, best first. */
function rank(weights: Weights, service: string, hosts: string[]): { ranked: string[]; weights: number[] } {
  const weightOf = weights.forService('place', service);
  const pairs = hosts.map((h) => ({ h, w: weightOf(h) }));
  pairs.sort((a, b) => b.w - a.w || byName(a.h, b.h));
  return { ranked: pairs.map((x) => x.h), weights: pairs.map((x) => x.w) };
}

/**
 * The host with the highest master weight in `pool`, restricted to
 * master_scheduling_group when set (an error when no host of the pool is in it).
 * Elected among all candidates, not among the chosen instances, and then placed
 * there: the master changes only when the candidates do. `key` names the
 * election: a schedule_with bundle holds one (its root's name), so followers
 * elect the same master as their target unless a master_scheduling_group
 * rules it out, and a bundle needs few of its instances for masters.
 */
function electAmong(
  weights: Weights,
  s: SchedService,
  pool: string[],
  groups: Map<string, Set<string>>,
  known: Set<string>,
  errors: ScheduleError[],
  key: string = s.name,
): string | undefined {
  let eligible = pool;
  if (!masterGroupKnown(s, known)) return undefined; // reported by checkScheduleInput
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
  const masterWeight = weights.forService('master', key);
  return eligible.reduce((best, h) => {
    const wb = masterWeight(best);
    const wh = masterWeight(h);
    return wh > wb || (wh === wb && h < best) ? h : best;
  });
}

/** Candidate hosts of a service from its scheduling groups (all known: checkScheduleInput); undefined (with an error) when too few. */
function candidatesOf(s: SchedService, groups: Map<string, Set<string>>, errors: ScheduleError[]): string[] | undefined {
  const { groups: names } = schedulingGroups(s);
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
  const errors = checkScheduleInput(input);
  const broken = unschedulable(input, errors);
  const groups = groupMembers(input);
  const known = knownGroups(input);
  const order = processingOrder(input.services);
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
    if (!s.schedule_with || broken.has(s.name)) continue;
    const root = rootOf(s);
    if (root) followers.set(root.name, [...(followers.get(root.name) ?? []), s]);
  }

  // Phase 1: candidates, ranking, masters.
  const placements = new Map<string, Placement>();
  const masters: Record<string, string> = {};
  for (const s of order) {
    if (s.schedule_with || broken.has(s.name)) continue;
    const candidates = candidatesOf(s, groups, errors);
    if (!candidates) continue;
    const own = s.master_election ? electAmong(weights, s, candidates, groups, known, errors) : undefined;
    if (s.master_election && !own) continue;
    const { ranked, weights: w } = rank(weights, s.name, candidates);
    const n = s.num_instances === 'all' ? candidates.length : s.num_instances;
    const forced: string[] = own ? [own] : [];
    if (own) masters[s.name] = own;
    // Followers' masters are elected among the same candidates, in the bundle's
    // election, and placed too; once they fill all n instances (different
    // master_scheduling_groups), the next ones are elected among those.
    const mine = followers.get(s.name) ?? [];
    for (const f of mine) {
      if (!f.master_election) continue;
      const m = electAmong(weights, f, candidates, groups, known, errors, s.name);
      if (!m) continue;
      if (forced.includes(m) || forced.length < n) {
        masters[f.name] = m;
        if (!forced.includes(m)) forced.push(m);
        continue;
      }
      const group = f.master_scheduling_group ? (groups.get(f.master_scheduling_group) ?? new Set<string>()) : undefined;
      const pool = forced.filter((h) => !group || group.has(h));
      if (pool.length === 0) {
        errors.push({
          service: f.name,
          attribute: 'master_scheduling_group',
          code: 'F2003',
          message: `service '${f.name}': none of the ${n} instance(s) of '${s.name}' can be in master_scheduling_group '${f.master_scheduling_group}' (the masters of '${s.name}' and its followers take them all)`,
        });
        continue;
      }
      masters[f.name] = electAmong(weights, f, pool, groups, known, errors, s.name)!;
    }
    const fixed = s.num_instances === 'all' ? candidates : forced;
    placements.set(s.name, { service: s, index: 0, candidates, ranked, weights: w, n, cost: 1 + mine.length, fixed, hosts: [...fixed] });
  }
  [...placements.values()].sort((a, b) => byName(a.service.name, b.service.name)).forEach((p, i) => (p.index = i));

  // Phase 2: the rest of the instances, under the load bounds.
  assign([...placements.values()], bounds([...placements.values()], weights));

  // Phase 3: followers take their root's hosts (every master is among them, being fixed).
  const assignments: Record<string, string[]> = {};
  for (const s of [...input.services].sort((a, b) => byName(a.name, b.name))) {
    const root = rootOf(s);
    const p = root ? placements.get(root.name) : undefined;
    assignments[s.name] = p ? [...p.hosts].sort(byName) : [];
    if (!p) delete masters[s.name];
  }
  return { assignments, masters, errors };
}

/**
 * Each host's load bound: LOAD_SLACK times its expected load (every service
 * spread evenly over its candidates), rounded up or down. The bound is never
 * above ceil(LOAD_SLACK x expected), the balance target, and never below one
 * less. Where between the two it switches depends on the host's pressure, its
 * natural demand (the load pure rendezvous hashing would give it) minus its
 * expectation: the most pressed host rounds up as soon as the target passes an
 * integer, the least pressed half an instance later, the others in between.
 */
function bounds(placements: Placement[], weights: Weights): Map<string, number> {
  const expected = new Map<string, number>();
  const demand = new Map<string, number>();
  for (const p of placements) {
    for (const h of p.candidates) expected.set(h, (expected.get(h) ?? 0) + (p.cost * p.n) / p.candidates.length);
    const natural = new Set(p.fixed);
    for (const h of p.ranked) {
      if (natural.size >= p.n) break;
      natural.add(h);
    }
    for (const h of natural) demand.set(h, (demand.get(h) ?? 0) + p.cost);
  }
  const tieBreak = weights.forService('round', '');
  const pressure = (h: string) => (demand.get(h) ?? 0) - expected.get(h)!;
  const byPressure = [...expected.keys()].sort((a, b) => pressure(b) - pressure(a) || tieBreak(a) - tieBreak(b) || byName(a, b));
  const out = new Map<string, number>();
  byPressure.forEach((h, i) => {
    // Rounded to 1e-6 so that float noise in the sum cannot cross an integer.
    const target = Math.round(LOAD_SLACK * expected.get(h)! * 1e6) / 1e6;
    const lateness = ROUND_WINDOW * (i / byPressure.length);
    out.set(h, Math.max(1, Math.min(Math.ceil(target), Math.floor(target + 1 - lateness - 1e-9))));
  });
  return out;
}

/** The width, in instances, of the window over which hosts' bounds round up (see bounds). */
const ROUND_WINDOW = 0.5;

/** A binary max-heap of proposals: (scheduling_order asc, weight desc, service, rank). */
class Proposals {
  private readonly items: Array<{ p: Placement; i: number }> = [];
  get size(): number {
    return this.items.length;
  }
  private static before(x: { p: Placement; i: number }, y: { p: Placement; i: number }): boolean {
    const ox = x.p.service.scheduling_order ?? -1;
    const oy = y.p.service.scheduling_order ?? -1;
    if (ox !== oy) return ox < oy;
    const wx = x.p.weights[x.i];
    const wy = y.p.weights[y.i];
    if (wx !== wy) return wx > wy;
    return x.p.index < y.p.index || (x.p.index === y.p.index && x.i < y.i);
  }
  push(x: { p: Placement; i: number }): void {
    const a = this.items;
    a.push(x);
    for (let i = a.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!Proposals.before(a[i], a[parent])) break;
      [a[i], a[parent]] = [a[parent], a[i]];
      i = parent;
    }
  }
  pop(): { p: Placement; i: number } {
    const a = this.items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && Proposals.before(a[l], a[m])) m = l;
        if (r < a.length && Proposals.before(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Phase 2: deferred acceptance with the rendezvous weights on both sides. Fixed
 * placements load their hosts first; then every service proposes to its
 * candidates best first, and the proposals are taken across all services in
 * decreasing weight (lower scheduling_order first): a proposal is accepted
 * while the service still needs instances and the host is under its bound.
 * When the bounds leave no room (a bundle larger than any host's room), the
 * remaining instances go where they exceed the bound least.
 */
function assign(placements: Placement[], limit: Map<string, number>): void {
  const load = new Map<string, number>();
  const taken = new Map<Placement, Set<string>>();
  const queue = new Proposals();
  for (const p of placements) {
    taken.set(p, new Set(p.hosts));
    for (const h of p.hosts) load.set(h, (load.get(h) ?? 0) + p.cost);
    if (p.hosts.length < p.n) queue.push({ p, i: 0 });
  }
  while (queue.size > 0) {
    const { p, i } = queue.pop();
    const h = p.ranked[i];
    const mine = taken.get(p)!;
    if (!mine.has(h) && (load.get(h) ?? 0) + p.cost <= limit.get(h)!) {
      mine.add(h);
      p.hosts.push(h);
      load.set(h, (load.get(h) ?? 0) + p.cost);
    }
    if (p.hosts.length < p.n && i + 1 < p.ranked.length) queue.push({ p, i: i + 1 });
  }
  for (const p of [...placements].sort((a, b) => a.index - b.index)) {
    const mine = taken.get(p)!;
    while (p.hosts.length < p.n) {
      let best: string | undefined;
      let bestOver = Infinity;
      for (const h of p.ranked) {
        if (mine.has(h)) continue;
        const over = (load.get(h) ?? 0) + p.cost - limit.get(h)!;
        if (over < bestOver) [best, bestOver] = [h, over];
      }
      mine.add(best!);
      p.hosts.push(best!);
      load.set(best!, (load.get(best!) ?? 0) + p.cost);
    }
  }
}
