// The float-compat scheduler: reproduces upstream float's service-to-host
// assignments (plugins/inventory/float.py, Assignments.schedule) bit for bit, so
// an existing deployment can switch to this tool without moving any instance.
// Every quirk below is upstream's, kept on purpose; see each comment.
import { byCodePoint } from '../core/compare.js';
import { crc32 } from 'node:zlib';
import { checkScheduleInput, unschedulable } from './check.js';
import { PyRandom } from './mt19937.js';
import type { ScheduleError, ScheduleInput, ScheduleResult, SchedService } from './types.js';

/** Python compares str by code point; JS `<` compares UTF-16 units, which differ above U+FFFF. */
const compareCodePoints = byCodePoint;

function sorted(names: Iterable<string>): string[] {
  return [...names].sort(compareCodePoints);
}

/** Group -> sorted member hosts. Every host is in `all` (upstream adds it; the caller does not). */
function buildGroupMap(input: ScheduleInput): Map<string, string[]> {
  const members = new Map<string, Set<string>>();
  for (const host of input.hosts) {
    for (const group of ['all', ...host.groups]) {
      if (!members.has(group)) members.set(group, new Set());
      members.get(group)!.add(host.name);
    }
  }
  return new Map([...members].map(([group, hosts]) => [group, sorted(hosts)]));
}

/**
 * Upstream's processing order: (scheduling_order default -1, 1 if schedule_with
 * else 0, name). It is what makes a schedule_with target usually come first, and
 * it decides which service sees which host loads.
 */
function processingOrder(services: SchedService[]): SchedService[] {
  const key = (s: SchedService): [number, number] => [s.scheduling_order ?? -1, s.schedule_with !== undefined ? 1 : 0];
  return [...services].sort((a, b) => {
    const [a0, a1] = key(a);
    const [b0, b1] = key(b);
    return a0 - b0 || a1 - b1 || compareCodePoints(a.name, b.name);
  });
}

/** Upstream's _predictable_random: a generator seeded by the CRC-32 of the sorted host names joined by ','. */
function predictableRandom(sortedHosts: string[]): PyRandom {
  return new PyRandom(crc32(sortedHosts.join(',')));
}

/**
 * Python 2's random.shuffle, which upstream keeps (py2_shuffle) because Python 3
 * changed shuffle's draws and would have moved every instance.
 */
function py2Shuffle<T>(rnd: PyRandom, seq: T[]): void {
  for (let i = seq.length - 1; i > 0; i--) {
    const j = Math.floor(rnd.random() * (i + 1));
    [seq[i], seq[j]] = [seq[j], seq[i]];
  }
}

/** Python 2's random.choice (py2_choice), kept for the same reason as py2Shuffle. */
function py2Choice<T>(rnd: PyRandom, seq: T[]): T {
  return seq[Math.floor(rnd.random() * seq.length)];
}

/**
 * Upstream's _binpack: picks n hosts among the least loaded, shuffling each load
 * level with one generator seeded from all the candidates. The caller has checked
 * n <= candidates.length.
 */
function binpack(candidates: string[], load: Map<string, number>, n: number): string[] {
  // Upstream returns the candidates untouched when they are exactly enough: no draw at all.
  if (n === candidates.length) return candidates;
  const hosts = sorted(candidates);
  const rnd = predictableRandom(hosts);
  const levels = new Map<number, string[]>();
  for (const h of hosts) {
    const level = load.get(h) ?? 0;
    if (!levels.has(level)) levels.set(level, []);
    levels.get(level)!.push(h);
  }
  const result: string[] = [];
  for (const level of [...levels.keys()].sort((a, b) => a - b)) {
    const tier = levels.get(level)!;
    py2Shuffle(rnd, tier);
    result.push(...tier);
    // Later levels are never shuffled, so they consume no draws.
    if (result.length >= n) break;
  }
  return result.slice(0, n);
}

/** Upstream's _master_election: depends only on the pool, not on the service. */
function electMaster(pool: string[]): string {
  const hosts = sorted(pool);
  return py2Choice(predictableRandom(hosts), hosts);
}

/** A service's outcome, before it is committed to the shared state. */
type Outcome = { hosts: string[]; master?: string } | { errors: ScheduleError[] } | 'skipped';

interface State {
  groups: Map<string, string[]>;
  load: Map<string, number>;
  assigned: Map<string, string[]>;
  masters: Map<string, string>;
  /** Services that failed, or were skipped because something they depend on failed. */
  failed: Set<string>;
}

function error(service: string, attribute: ScheduleError['attribute'], code: ScheduleError['code'], message: string): Outcome {
  return { errors: [{ service, attribute, code, message }] };
}

/** The hosts of the service named by schedule_with, which must already be scheduled. */
function scheduleWithCandidates(svc: SchedService, target: string, st: State): string[] | Outcome {
  // Unknown targets and cycles never get here (checkScheduleInput). The target's own error is already reported; repeating it here would only add noise.
  if (st.failed.has(target)) return 'skipped';
  const hosts = st.assigned.get(target);
  if (hosts === undefined) {
    // Upstream looks the target up in the assignments made so far and crashes
    // (KeyError) when it comes later in the processing order.
    return error(
      svc.name,
      'schedule_with',
      'F2005',
      `service '${svc.name}': schedule_with target '${target}' is scheduled after '${svc.name}' (services go by scheduling_order, then without schedule_with first, then by name); give '${target}' a lower scheduling_order`,
    );
  }
  return hosts;
}

/**
 * Upstream's _available_hosts: the target's hosts with schedule_with, otherwise
 * the union of the scheduling group(s). Hosts with `turndown` are NOT excluded:
 * upstream float has no turndown, and excluding them would change the schedule.
 */
function candidateHosts(svc: SchedService, st: State): string[] | Outcome {
  if (svc.schedule_with !== undefined) return scheduleWithCandidates(svc, svc.schedule_with, st);
  // scheduling_group wins over scheduling_groups, as upstream checks it first.
  // Every group is known (checkScheduleInput); `all` is empty when there are no hosts.
  const names = svc.scheduling_group !== undefined ? [svc.scheduling_group] : (svc.scheduling_groups ?? ['all']);
  return [...new Set(names.flatMap((g) => st.groups.get(g) ?? []))];
}

function describeCandidates(svc: SchedService): string {
  if (svc.schedule_with !== undefined) return `the hosts of service '${svc.schedule_with}'`;
  if (svc.scheduling_group !== undefined) return `group '${svc.scheduling_group}'`;
  if (svc.scheduling_groups !== undefined) return `groups [${svc.scheduling_groups.map((g) => `'${g}'`).join(', ')}]`;
  return `group 'all'`;
}

/**
 * The master pool is the candidates, not the chosen instances: upstream's latent
 * bug, reproduced so that masters match (mastersOffInstances reports its effect).
 */
function masterPool(svc: SchedService, candidates: string[], st: State): string[] | Outcome {
  if (svc.master_scheduling_group === undefined) {
    if (candidates.length > 0) return candidates;
    // Only `scheduling_groups: []` (or a schedule_with target running nowhere) gets here.
    const attribute = svc.schedule_with !== undefined ? 'schedule_with' : 'scheduling_groups';
    return error(svc.name, attribute, 'F2003', `service '${svc.name}': cannot elect a master, ${describeCandidates(svc)} has no hosts`);
  }
  // An unknown group is reported by checkScheduleInput: the service fails, as upstream's would.
  const group = st.groups.get(svc.master_scheduling_group);
  if (group === undefined) return 'skipped';
  const members = new Set(group);
  const pool = candidates.filter((h) => members.has(h));
  if (pool.length === 0) {
    return error(
      svc.name,
      'master_scheduling_group',
      'F2003',
      `service '${svc.name}': no host of ${describeCandidates(svc)} is in master_scheduling_group '${svc.master_scheduling_group}'`,
    );
  }
  return pool;
}

function scheduleService(svc: SchedService, st: State): Outcome {
  const candidates = candidateHosts(svc, st);
  if (!Array.isArray(candidates)) return candidates;
  let hosts: string[];
  if (svc.num_instances === 'all') {
    hosts = sorted(candidates);
  } else if (svc.num_instances > candidates.length) {
    return error(
      svc.name,
      'num_instances',
      'F2004',
      `service '${svc.name}': num_instances is ${svc.num_instances}, but ${describeCandidates(svc)} has only ${candidates.length} host(s)`,
    );
  } else {
    hosts = sorted(binpack(candidates, st.load, svc.num_instances));
  }
  if (!svc.master_election) return { hosts };
  const pool = masterPool(svc, candidates, st);
  if (!Array.isArray(pool)) return pool;
  return { hosts, master: electMaster(pool) };
}

/** Records a service's outcome; a failed service counts as running nowhere. */
function commit(svc: SchedService, outcome: Outcome, st: State, errors: ScheduleError[]): void {
  if (outcome === 'skipped' || 'errors' in outcome) {
    if (outcome !== 'skipped') errors.push(...outcome.errors);
    st.failed.add(svc.name);
    st.assigned.set(svc.name, []);
    return;
  }
  st.assigned.set(svc.name, outcome.hosts);
  for (const h of outcome.hosts) st.load.set(h, (st.load.get(h) ?? 0) + 1);
  if (outcome.master !== undefined) st.masters.set(svc.name, outcome.master);
}

/**
 * Schedules services exactly as upstream float does. Ignores `input.seed` and
 * host `turndown`: upstream has neither. User mistakes come back in `errors`.
 */
export function scheduleCompat(input: ScheduleInput): ScheduleResult {
  const st: State = {
    groups: buildGroupMap(input),
    load: new Map(),
    assigned: new Map(),
    masters: new Map(),
    failed: new Set(),
  };
  const errors = checkScheduleInput(input);
  const broken = unschedulable(input, errors);
  // A service the check refused fails where upstream would meet it: it runs nowhere and loads no host.
  for (const svc of processingOrder(input.services)) commit(svc, broken.has(svc.name) ? 'skipped' : scheduleService(svc, st), st, errors);
  // fromEntries defines own properties, so a service named like an Object
  // prototype member ("constructor", "__proto__") is stored safely.
  return {
    assignments: Object.fromEntries(st.assigned),
    masters: Object.fromEntries(st.masters),
    errors,
  };
}

/** Masters elected on a host that does not run their service (upstream's latent bug, see masterPool). */
export function mastersOffInstances(result: ScheduleResult): Array<{ service: string; host: string }> {
  const off: Array<{ service: string; host: string }> = [];
  for (const [service, host] of Object.entries(result.masters)) {
    if (!(result.assignments[service] ?? []).includes(host)) off.push({ service, host });
  }
  return off.sort((a, b) => compareCodePoints(a.service, b.service));
}
