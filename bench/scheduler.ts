// Scheduler benchmark: the stable scheduler's churn and balance targets on
// generated fleets, with PASS/FAIL per figure. benchScheduler() returns false
// when any target is missed (npm run bench then exits non-zero).
//
// A move is a (service, host) pair present before an event and absent after it.
// Each event has a floor, the moves it forces:
//   remove a host, turn a host down: the instances the host had (all of them
//     leave it);
//   add a host: the host's fair share of the instances that can move, that is
//     sum over the services (num_instances n, not 'all'; followers counted with
//     their target) that can run there of n / (candidates + 1). Strictly nothing
//     must move, but a scheduler that is a pure function of the configuration
//     cannot tell the new host from the others, so the new host gets about what
//     any host of its group gets, and every such instance comes from another host
//     (pure rendezvous hashing gives it exactly this share on average). Instances
//     of 'all' services that the new host gains are new, not moves;
//   add a service: 0 (its own instances are new, not moves; every move of
//     another service's instance is churn).
// Targets, per fleet size and event kind, over 10 events: mean moves per event
// at most 1.5 x the mean floor, and no single event above 2 x its floor + 2.
// Balance: no host above ceil(1.25 x its group's average), unless the
// configuration itself makes that impossible (see floorBound).
import { fileURLToPath } from 'node:url';
import { scheduleStable } from '../src/scheduler/stable.js';
import type { ScheduleInput, ScheduleResult, SchedService } from '../src/scheduler/types.js';
import { rng } from './rng.js';

const pick = <T>(r: () => number, xs: T[]): T => xs[Math.floor(r() * xs.length)];

/** A fleet of mixed shapes: frontend/backend/storage hosts; all/n instances, masters, schedule_with, two-group services. */
export function generate(numHosts: number, numServices: number, seed = 7): ScheduleInput {
  const r = rng(seed);
  const frontends = Math.max(2, Math.round(numHosts * 0.05));
  const hosts = Array.from({ length: numHosts }, (_, i) => {
    const g = i < frontends ? 'frontend' : r() < 0.2 ? 'storage' : 'backend';
    return { name: `host${String(i).padStart(4, '0')}`, groups: [g], turndown: false };
  });
  const services: SchedService[] = [];
  for (let i = 0; i < numServices; i++) {
    const name = `svc${String(i).padStart(3, '0')}`;
    const shape = r();
    const s: SchedService = { name, num_instances: pick(r, ['all', 1, 2, 2, 3, 3, 5] as const), master_election: r() < 0.3 };
    if (shape < 0.05) s.scheduling_group = 'frontend';
    else if (shape < 0.2) s.scheduling_group = 'storage';
    else if (shape < 0.3) s.scheduling_groups = ['backend', 'storage'];
    else if (shape < 0.38 && services.length > 0) {
      s.schedule_with = pick(r, services.filter((x) => !x.schedule_with)).name;
    } else s.scheduling_group = 'backend';
    if (s.master_election && s.scheduling_groups && r() < 0.5) s.master_scheduling_group = 'storage';
    if (s.num_instances === 'all' && s.scheduling_group === 'backend' && r() < 0.7) s.num_instances = 2;
    // The frontend group is small: never ask for more instances than it has.
    if (s.scheduling_group === 'frontend' && typeof s.num_instances === 'number') s.num_instances = Math.min(s.num_instances, frontends);
    services.push(s);
  }
  return { seed: 'bench.example.com', hosts, services };
}

function moved(a: ScheduleResult, b: ScheduleResult, only?: (svc: string) => boolean): number {
  let n = 0;
  for (const [svc, hosts] of Object.entries(a.assignments)) {
    if (only && !only(svc)) continue;
    const after = new Set(b.assignments[svc] ?? []);
    n += hosts.filter((h) => !after.has(h)).length;
  }
  return n;
}

/** Masters that changed although the old master still runs the service. */
function needlessMasterChanges(a: ScheduleResult, b: ScheduleResult): number {
  let n = 0;
  for (const [svc, m] of Object.entries(a.masters)) {
    if (b.masters[svc] !== undefined && b.masters[svc] !== m && (b.assignments[svc] ?? []).includes(m)) n++;
  }
  return n;
}

function instancesOn(r: ScheduleResult, host: string): number {
  return Object.values(r.assignments).filter((hs) => hs.includes(host)).length;
}

const byNameOf = (input: ScheduleInput) => new Map(input.services.map((s) => [s.name, s]));

function rootOf(byName: Map<string, SchedService>, s: SchedService): SchedService {
  return s.schedule_with ? rootOf(byName, byName.get(s.schedule_with)!) : s;
}

function candidates(input: ScheduleInput, s: SchedService): string[] {
  const groups = s.scheduling_group ? [s.scheduling_group] : (s.scheduling_groups ?? ['all']);
  return input.hosts.filter((h) => !h.turndown && groups.some((g) => g === 'all' || h.groups.includes(g))).map((h) => h.name);
}

/** The floor of adding a host with these groups: its fair share of the movable instances (see the header). */
function addHostFloor(input: ScheduleInput, groups: string[]): number {
  const byName = byNameOf(input);
  let share = 0;
  for (const s of input.services) {
    const root = rootOf(byName, s);
    if (root.num_instances === 'all') continue;
    const rootGroups = root.scheduling_group ? [root.scheduling_group] : (root.scheduling_groups ?? ['all']);
    if (!rootGroups.some((g) => g === 'all' || groups.includes(g))) continue;
    share += root.num_instances / (candidates(input, root).length + 1);
  }
  return share;
}

/**
 * The least maximum load any schedule can reach in `group`: a service (with its
 * schedule_with followers, which go where it goes) whose candidates all lie in
 * the group lands on some host that already carries every num_instances 'all'
 * service of that host.
 */
function floorBound(input: ScheduleInput, group: string): { bound: number; why: string } | undefined {
  const members = new Set(input.hosts.filter((h) => !h.turndown && h.groups.includes(group)).map((h) => h.name));
  const byName = byNameOf(input);
  const cost = new Map<string, number>();
  for (const s of input.services) cost.set(rootOf(byName, s).name, (cost.get(rootOf(byName, s).name) ?? 0) + 1);
  const fixed = new Map<string, number>();
  const roots = input.services.filter((s) => !s.schedule_with);
  for (const s of roots) if (s.num_instances === 'all') for (const h of candidates(input, s)) fixed.set(h, (fixed.get(h) ?? 0) + cost.get(s.name)!);
  let best: { bound: number; why: string } | undefined;
  for (const s of roots) {
    const c = candidates(input, s);
    if (s.num_instances === 'all' || c.length === 0 || !c.every((h) => members.has(h))) continue;
    const bound = Math.min(...c.map((h) => (fixed.get(h) ?? 0) + cost.get(s.name)!));
    if (!best || bound > best.bound) {
      best = { bound, why: `${s.name} and its ${cost.get(s.name)! - 1} follower(s) land on a host with ${bound - cost.get(s.name)!} 'all' instances` };
    }
  }
  return best;
}

function shuffle<T>(xs: T[], r: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export type Scheduler = (input: ScheduleInput) => ScheduleResult;
export type EventKind = 'add host' | 'remove host' | 'turn down host' | 'add service';
export const EVENT_KINDS: EventKind[] = ['add host', 'remove host', 'turn down host', 'add service'];

/** The ten services added one at a time by the 'add service' events: the fleet's own shapes. */
const NEW_SERVICES: SchedService[] = [
  { name: 'svc050a', num_instances: 3, master_election: true, scheduling_group: 'backend' },
  { name: 'svc050b', num_instances: 1, master_election: false, scheduling_group: 'storage' },
  { name: 'svc050c', num_instances: 5, master_election: false, scheduling_groups: ['backend', 'storage'] },
  { name: 'svc050d', num_instances: 2, master_election: false, scheduling_group: 'backend' },
  { name: 'svc050e', num_instances: 1, master_election: true, scheduling_group: 'backend' },
  { name: 'svc050f', num_instances: 2, master_election: true, scheduling_group: 'storage' },
  { name: 'svc050g', num_instances: 3, master_election: true, scheduling_groups: ['backend', 'storage'], master_scheduling_group: 'storage' },
  { name: 'svc050h', num_instances: 1, master_election: false, scheduling_group: 'frontend' },
  { name: 'svc050i', num_instances: 'all', master_election: false, scheduling_group: 'storage' },
  { name: 'svc050j', num_instances: 2, master_election: false },
];

export interface EventFigures {
  kind: EventKind;
  /** Per event: moves and floor. */
  moves: number[];
  floors: number[];
  /** Masters that changed while the old master still runs the service (not counted for 'add host', see stable.ts). */
  masters: number;
}

/** The 10 events of each kind on one fleet, measured (only the `only`-th of each kind when given). */
export function churn(input: ScheduleInput, schedule: Scheduler = scheduleStable, only?: number): EventFigures[] {
  const base = schedule(input);
  if (base.errors.length) throw new Error(`generated configuration has errors: ${JSON.stringify(base.errors[0])}`);
  const out: EventFigures[] = EVENT_KINDS.map((kind) => ({ kind, moves: [], floors: [], masters: 0 }));
  const wanted = (i: number) => only === undefined || only === i;
  const record = (kind: EventKind, after: ScheduleResult, floor: number, others?: (s: string) => boolean) => {
    const f = out.find((x) => x.kind === kind)!;
    f.moves.push(moved(base, after, others));
    f.floors.push(floor);
    if (kind !== 'add host') f.masters += needlessMasterChanges(base, after);
  };
  // Ten new backend hosts, each alone (a different name, so different weights).
  const addFloor = addHostFloor(input, ['backend']);
  for (let i = 0; i < 10; i++) {
    if (!wanted(i)) continue;
    record('add host', schedule({ ...input, hosts: [...input.hosts, { name: `new-host-${i}`, groups: ['backend'], turndown: false }] }), addFloor);
  }
  // Ten backend hosts (every third), removed from hosts.yml or turned down.
  const victims = input.hosts.filter((h) => h.groups.includes('backend')).filter((_, i) => i % 3 === 0).slice(0, 10);
  for (const [i, v] of victims.entries()) {
    if (!wanted(i)) continue;
    const had = instancesOn(base, v.name);
    record('remove host', schedule({ ...input, hosts: input.hosts.filter((h) => h.name !== v.name) }), had);
    record('turn down host', schedule({ ...input, hosts: input.hosts.map((h) => (h.name === v.name ? { ...h, turndown: true } : h)) }), had);
  }
  for (const [i, extra] of NEW_SERVICES.entries()) {
    if (!wanted(i)) continue;
    record('add service', schedule({ ...input, services: [...input.services, extra] }), 0, (s) => s !== extra.name);
  }
  return out;
}

export interface Verdict {
  what: string;
  ok: boolean;
  text: string;
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));

/** The two churn targets for one event kind. */
export function judge(f: EventFigures): Verdict[] {
  const n = f.moves.length;
  const sumMoves = f.moves.reduce((a, b) => a + b, 0);
  const sumFloor = f.floors.reduce((a, b) => a + b, 0);
  const mean = sumMoves / n;
  const meanFloor = sumFloor / n;
  const meanOk = mean <= 1.5 * meanFloor + 1e-9;
  const ratio = meanFloor > 0 ? `${(mean / meanFloor).toFixed(2)} x floor` : 'floor 0';
  let worst = 0;
  for (let i = 1; i < n; i++) if (f.moves[i] - (2 * f.floors[i] + 2) > f.moves[worst] - (2 * f.floors[worst] + 2)) worst = i;
  const limit = 2 * f.floors[worst] + 2;
  const worstOk = f.moves[worst] <= limit + 1e-9;
  return [
    {
      what: `${f.kind}: mean moves / mean floor`,
      ok: meanOk,
      text: `${fmt(mean)} / ${fmt(meanFloor)} = ${ratio} (limit 1.5 x floor = ${fmt(1.5 * meanFloor)})`,
    },
    {
      what: `${f.kind}: worst event vs 2 x floor + 2`,
      ok: worstOk,
      text: `${f.moves[worst]} moved, floor ${fmt(f.floors[worst])} (limit ${fmt(limit)}); moves per event: ${f.moves.join(' ')}`,
    },
  ];
}

/** Balance per group, reordering, decommissioning and master stability on one fleet. */
export function invariants(input: ScheduleInput, figures: EventFigures[], schedule: Scheduler = scheduleStable): Verdict[] {
  const base = schedule(input);
  const out: Verdict[] = [];
  const r = rng(991);
  const reordered = schedule({
    ...input,
    hosts: shuffle(input.hosts, r).map((h) => ({ ...h, groups: shuffle(h.groups, r) })),
    services: shuffle(input.services, r).map((s) => (s.scheduling_groups ? { ...s, scheduling_groups: shuffle(s.scheduling_groups, r) } : s)),
  });
  const m = moved(base, reordered);
  out.push({ what: 'reorder every list in every file', ok: m === 0, text: `${m} moved (limit 0)` });
  // Decommissioning as the reference describes it: turndown first, then remove
  // the host from hosts.yml. The second step must move nothing.
  const victims = input.hosts.filter((h) => h.groups.includes('backend')).filter((_, i) => i % 3 === 0).slice(0, 10);
  let afterRemoval = 0;
  for (const v of victims) {
    const down = input.hosts.map((h) => (h.name === v.name ? { ...h, turndown: true } : h));
    afterRemoval += moved(schedule({ ...input, hosts: down }), schedule({ ...input, hosts: down.filter((h) => h.name !== v.name) }));
  }
  out.push({ what: 'remove a turned-down host (10 hosts)', ok: afterRemoval === 0, text: `${afterRemoval} moved (limit 0)` });
  const masters = figures.filter((f) => f.kind !== 'add host').reduce((a, f) => a + f.masters, 0);
  out.push({ what: 'masters moved although their host still runs it', ok: masters === 0, text: `${masters} (limit 0; remove, turn down, add service)` });
  for (const g of ['frontend', 'backend', 'storage']) {
    const members = input.hosts.filter((h) => h.groups.includes(g)).map((h) => h.name);
    const loads = members.map((h) => instancesOn(base, h));
    const avg = loads.reduce((a, b) => a + b, 0) / members.length;
    const target = Math.ceil(1.25 * avg);
    const floor = floorBound(input, g);
    const max = Math.max(...loads);
    if (floor && floor.bound > target) {
      out.push({ what: `balance ${g}`, ok: max <= floor.bound, text: `max ${max}, avg ${avg.toFixed(2)}: ceil(1.25 x avg) = ${target} is unattainable (${floor.why}), limit ${floor.bound}` });
    } else out.push({ what: `balance ${g}`, ok: max <= target, text: `max ${max}, avg ${avg.toFixed(2)} (limit ceil(1.25 x avg) = ${target})` });
  }
  return out;
}

/**
 * Information, not a target: the same events spread over ten fleets of the size
 * (event i on the fleet generated with seed i + 1). The ten events on one fleet
 * share its expected loads, so when they sit just below or above the point where
 * some hosts' bounds step, every event pays for the step; spread over fleets,
 * the figures show the scheduler's typical churn at that size.
 */
export function acrossFleets(numHosts: number, numServices: number, schedule: Scheduler = scheduleStable): string[] {
  const acc = EVENT_KINDS.map((kind): EventFigures => ({ kind, moves: [], floors: [], masters: 0 }));
  for (let i = 0; i < 10; i++) {
    for (const f of churn(generate(numHosts, numServices, i + 1), schedule, i)) {
      const a = acc.find((x) => x.kind === f.kind)!;
      a.moves.push(...f.moves);
      a.floors.push(...f.floors);
    }
  }
  return acc.map((f) => {
    const [mean, worst] = judge(f);
    return `${f.kind}: mean ${mean.text.split(' (')[0]}, worst ${worst.text.split(';')[0]}, ${mean.ok && worst.ok ? 'within' : 'outside'} the targets`;
  });
}

function speed(numHosts: number, numServices: number): Verdict {
  const input = generate(numHosts, numServices);
  scheduleStable(input); // warm-up
  const t0 = performance.now();
  const runs = 5;
  for (let i = 0; i < runs; i++) scheduleStable(input);
  const ms = (performance.now() - t0) / runs;
  return { what: `schedule ${numHosts} hosts x ${numServices} services`, ok: ms < 500, text: `${Math.round(ms)} ms (limit 500 ms)` };
}

export const SIZES: Array<[number, number]> = [
  [50, 40],
  [50, 100],
  [200, 40],
  [200, 100],
];

function print(v: Verdict): void {
  console.log(`  ${v.ok ? 'PASS' : 'FAIL'}  ${v.what.padEnd(44)} ${v.text}`);
}

/** Prints every figure; false when a target is missed. */
export async function benchScheduler(): Promise<boolean> {
  console.log('\n== scheduler (stable) ==');
  console.log('Floors (moves an event forces): remove or turn down a host = the instances it had;');
  console.log("add a host = its fair share of the movable instances, sum of n/(candidates+1) over the non-'all' services that can run there;");
  console.log('add a service = 0 (its own instances are not moves). Targets per size and event kind, 10 events each:');
  console.log('mean moves <= 1.5 x mean floor; every event <= 2 x its floor + 2. Balance: max <= ceil(1.25 x group average).');
  let ok = true;
  for (const [h, s] of SIZES) {
    console.log(`-- ${h} hosts, ${s} services`);
    const input = generate(h, s);
    const figures = churn(input);
    for (const v of [...figures.flatMap(judge), ...invariants(input, figures)]) {
      print(v);
      ok &&= v.ok;
    }
    for (const line of acrossFleets(h, s)) console.log(`  info  10 fleets, one event each: ${line}`);
  }
  const v = speed(1000, 200);
  print(v);
  ok &&= v.ok;
  console.log(ok ? 'scheduler: every target met' : 'scheduler: TARGETS MISSED (FAIL above)');
  return ok;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (!(await benchScheduler())) process.exitCode = 1;
}
