// Scheduler benchmark: churn, balance, master stability and speed of the stable
// scheduler on generated fleets, against the targets of the scheduler issue.
// "Moved instances" = (service, host) pairs present before and absent after.
import { fileURLToPath } from 'node:url';
import { scheduleStable } from '../src/scheduler/stable.js';
import type { ScheduleInput, ScheduleResult, SchedService } from '../src/scheduler/types.js';
import { rng } from './rng.js';


const pick = <T>(r: () => number, xs: T[]): T => xs[Math.floor(r() * xs.length)];

export function generate(numHosts: number, numServices: number, seed = 7): ScheduleInput {
  const r = rng(seed);
  const hosts = Array.from({ length: numHosts }, (_, i) => {
    const g = i < Math.max(2, Math.round(numHosts * 0.05)) ? 'frontend' : r() < 0.2 ? 'storage' : 'backend';
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
    if (b.masters[svc] && b.masters[svc] !== m && (b.assignments[svc] ?? []).includes(m)) n++;
  }
  return n;
}

function instancesOn(r: ScheduleResult, host: string): number {
  return Object.values(r.assignments).filter((hs) => hs.includes(host)).length;
}

function groupInstances(r: ScheduleResult, input: ScheduleInput, group: string): number {
  const members = new Set(input.hosts.filter((h) => h.groups.includes(group)).map((h) => h.name));
  return Object.values(r.assignments).reduce((n, hs) => n + hs.filter((h) => members.has(h)).length, 0);
}

function shuffle<T>(xs: T[], r: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

interface Row {
  what: string;
  value: number;
  limit: number;
  unit?: string;
}

function scenario(numHosts: number, numServices: number): Row[] {
  const input = generate(numHosts, numServices);
  const base = scheduleStable(input);
  if (base.errors.length) throw new Error(`generated configuration has errors: ${JSON.stringify(base.errors[0])}`);
  const rows: Row[] = [];
  const r = rng(99);
  const masterChanges: number[] = [];

  // Reordering every list in the input.
  const reordered = scheduleStable({
    ...input,
    hosts: shuffle(input.hosts, r),
    services: shuffle(input.services, r),
  });
  rows.push({ what: 'reorder hosts and services: moved', value: moved(base, reordered), limit: 0 });

  // Adding one host to the backend group.
  const H = input.hosts.filter((h) => h.groups.includes('backend')).length;
  const added = { ...input, hosts: [...input.hosts, { name: 'host-new', groups: ['backend'], turndown: false }] };
  const afterAdd = scheduleStable(added);
  const inGroup = groupInstances(base, input, 'backend');
  rows.push({ what: `add a host to backend (H=${H}): moved`, value: moved(base, afterAdd), limit: Math.floor((1.5 * inGroup) / (H + 1)) });
  masterChanges.push(needlessMasterChanges(base, afterAdd));

  // Removing and turning down a backend host: over ten different hosts, the
  // total moved against 1.5 x the total they had, and the worst single host.
  const victims = input.hosts.filter((h) => h.groups.includes('backend')).filter((_, i) => i % 3 === 0).slice(0, 10);
  for (const mode of ['remove', 'turn down'] as const) {
    let movedSum = 0;
    let hadSum = 0;
    let worst = { moved: 0, had: 1, host: '' };
    for (const v of victims) {
      const had = instancesOn(base, v.name);
      const after = scheduleStable({
        ...input,
        hosts: mode === 'remove' ? input.hosts.filter((h) => h.name !== v.name) : input.hosts.map((h) => (h.name === v.name ? { ...h, turndown: true } : h)),
      });
      const m = moved(base, after);
      movedSum += m;
      hadSum += had;
      if (m / had > worst.moved / worst.had) worst = { moved: m, had, host: v.name };
      masterChanges.push(needlessMasterChanges(base, after));
    }
    rows.push({ what: `${mode} a host, 10 hosts: moved in total (they had ${hadSum})`, value: movedSum, limit: Math.floor(1.5 * hadSum) });
    rows.push({ what: `${mode} a host, worst of 10: moved (it had ${worst.had})`, value: worst.moved, limit: Math.floor(1.5 * worst.had) });
  }

  // Adding one service (named to sort in the middle).
  const others = Object.values(base.assignments).reduce((n, hs) => n + hs.length, 0);
  const withSvc = scheduleStable({
    ...input,
    services: [...input.services, { name: 'svc050x', num_instances: 3, master_election: true, scheduling_group: 'backend' }],
  });
  rows.push({ what: 'add a service: moved (others)', value: moved(base, withSvc, (s) => s !== 'svc050x'), limit: Math.floor(0.02 * others) });
  masterChanges.push(needlessMasterChanges(base, withSvc));

  // Balance per group.
  for (const g of ['frontend', 'backend', 'storage']) {
    const members = input.hosts.filter((h) => h.groups.includes(g)).map((h) => h.name);
    const loads = members.map((h) => instancesOn(base, h));
    const avg = loads.reduce((a, b) => a + b, 0) / members.length;
    rows.push({ what: `balance ${g}: max instances on a host (avg ${avg.toFixed(1)})`, value: Math.max(...loads), limit: Math.ceil(1.25 * avg) });
  }
  rows.push({ what: 'masters moved while their host still runs the service', value: masterChanges.reduce((a, b) => a + b, 0), limit: 0 });
  return rows;
}

function speed(numHosts: number, numServices: number): Row {
  const input = generate(numHosts, numServices);
  scheduleStable(input); // warm-up
  const t0 = performance.now();
  const runs = 5;
  for (let i = 0; i < runs; i++) scheduleStable(input);
  const ms = (performance.now() - t0) / runs;
  return { what: `schedule ${numHosts} hosts x ${numServices} services`, value: Math.round(ms), limit: 500, unit: 'ms' };
}

export async function benchScheduler(): Promise<void> {
  console.log('\n== scheduler (stable) ==');
  for (const [h, s] of [
    [50, 40],
    [200, 100],
  ]) {
    console.log(`-- ${h} hosts, ${s} services`);
    for (const row of scenario(h, s)) print(row);
  }
  print(speed(1000, 200));
}

function print(row: Row): void {
  const ok = row.value <= row.limit ? 'PASS' : 'FAIL';
  console.log(`  ${row.what.padEnd(58)} ${String(row.value).padStart(6)}${row.unit ?? ''}  (limit ${row.limit}${row.unit ?? ''})  ${ok}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await benchScheduler();
