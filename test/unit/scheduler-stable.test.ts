import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scheduleStable } from '../../src/scheduler/stable.js';
import type { ScheduleInput, SchedService } from '../../src/scheduler/types.js';

function svc(name: string, attrs: Partial<SchedService> = {}): SchedService {
  return { name, num_instances: 'all', master_election: false, ...attrs };
}

function hosts(n: number, groups: (i: number) => string[] = () => ['backend']) {
  return Array.from({ length: n }, (_, i) => ({ name: `h${i + 1}`, groups: groups(i), turndown: false }));
}

const base = (services: SchedService[], n = 5): ScheduleInput => ({ seed: 'example.com', hosts: hosts(n), services });

describe('stable scheduler: rules', () => {
  it("num_instances 'all' places one instance on every candidate", () => {
    const r = scheduleStable(base([svc('a')]));
    expect(r.assignments.a).toEqual(['h1', 'h2', 'h3', 'h4', 'h5']);
    expect(r.errors).toEqual([]);
  });
  it('n instances on n distinct candidate hosts', () => {
    const r = scheduleStable(base([svc('a', { num_instances: 3 })]));
    expect(new Set(r.assignments.a).size).toBe(3);
  });
  it('scheduling_group and scheduling_groups restrict the candidates; turndown hosts get nothing', () => {
    const input: ScheduleInput = {
      seed: 's',
      hosts: [
        { name: 'f1', groups: ['frontend'], turndown: false },
        { name: 'b1', groups: ['backend'], turndown: false },
        { name: 'b2', groups: ['backend'], turndown: true },
        { name: 's1', groups: ['storage'], turndown: false },
      ],
      services: [svc('a', { scheduling_group: 'backend' }), svc('b', { scheduling_groups: ['frontend', 'storage'] })],
    };
    const r = scheduleStable(input);
    expect(r.assignments).toEqual({ a: ['b1'], b: ['f1', 's1'] });
  });
  it('schedule_with places a service on exactly its target hosts', () => {
    const r = scheduleStable(base([svc('a', { num_instances: 2 }), svc('b', { schedule_with: 'a' })]));
    expect(r.assignments.b).toEqual(r.assignments.a);
  });
  it('too many instances: an error naming service, group and both numbers', () => {
    const r = scheduleStable({ ...base([svc('a', { num_instances: 7, scheduling_group: 'backend' })]) });
    expect(r.errors).toEqual([
      { service: 'a', attribute: 'num_instances', code: 'F2004', message: "service 'a' wants 7 instances but group 'backend' has only 5 hosts available" },
    ]);
    expect(r.assignments.a).toEqual([]);
  });
  it('unknown group, unknown schedule_with target, and cycles are errors', () => {
    const r = scheduleStable(
      base([svc('a', { scheduling_group: 'nope' }), svc('b', { schedule_with: 'zz' }), svc('c', { schedule_with: 'd' }), svc('d', { schedule_with: 'c' })]),
    );
    expect(r.errors.map((e) => [e.service, e.code, e.attribute]).sort()).toEqual([
      ['a', 'F2003', 'scheduling_group'],
      ['b', 'F2005', 'schedule_with'],
      ['c', 'F2006', 'schedule_with'],
    ]);
  });
  it('the master is one of the instances', () => {
    const r = scheduleStable(base([svc('a', { num_instances: 2, master_election: true })]));
    expect(r.assignments.a).toContain(r.masters.a);
  });
  it('master_scheduling_group: an instance lands in it and the master is there', () => {
    const input: ScheduleInput = {
      seed: 'x',
      hosts: hosts(8, (i) => (i === 7 ? ['backend', 'special'] : ['backend'])),
      services: [svc('a', { num_instances: 1, master_election: true, master_scheduling_group: 'special', scheduling_group: 'backend' })],
    };
    const r = scheduleStable(input);
    expect(r.assignments.a).toEqual(['h8']);
    expect(r.masters.a).toBe('h8');
  });
  it('master_scheduling_group with no candidate in it is an error', () => {
    const input: ScheduleInput = {
      seed: 'x',
      hosts: [...hosts(3), { name: 'o1', groups: ['other'], turndown: false }],
      services: [svc('a', { num_instances: 1, master_election: true, master_scheduling_group: 'other', scheduling_group: 'backend' })],
    };
    expect(scheduleStable(input).errors.map((e) => [e.code, e.attribute])).toEqual([['F2003', 'master_scheduling_group']]);
  });
  it('the seed decides: another seed gives another (still valid) schedule', () => {
    const services = Array.from({ length: 20 }, (_, i) => svc(`s${i}`, { num_instances: 1 }));
    const a = scheduleStable({ seed: 'one', hosts: hosts(10), services });
    const b = scheduleStable({ seed: 'two', hosts: hosts(10), services });
    expect(a.assignments).not.toEqual(b.assignments);
  });
  it('balances: no host above ceil(1.25 x average)', () => {
    const services = Array.from({ length: 60 }, (_, i) => svc(`s${i}`, { num_instances: 1 + (i % 3) }));
    const r = scheduleStable({ seed: 'b', hosts: hosts(12), services });
    const load = new Map<string, number>();
    for (const hs of Object.values(r.assignments)) for (const h of hs) load.set(h, (load.get(h) ?? 0) + 1);
    const total = [...load.values()].reduce((a, b) => a + b, 0);
    expect(Math.max(...load.values())).toBeLessThanOrEqual(Math.ceil((1.25 * total) / 12));
  });
});

// Random configurations for the properties.
const arbInput = fc
  .record({
    seed: fc.string({ minLength: 1, maxLength: 8 }),
    nHosts: fc.integer({ min: 1, max: 12 }),
    groupOf: fc.array(fc.constantFrom('frontend', 'backend', 'storage'), { minLength: 12, maxLength: 12 }),
    turndown: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
    services: fc.array(
      fc.record({
        group: fc.constantFrom(undefined, 'frontend', 'backend', 'storage'),
        n: fc.constantFrom<'all' | number>('all', 1, 2, 3),
        master: fc.boolean(),
      }),
      { minLength: 1, maxLength: 10 },
    ),
  })
  .map(({ seed, nHosts, groupOf, turndown, services }) => ({
    seed,
    hosts: Array.from({ length: nHosts }, (_, i) => ({ name: `host-${i}`, groups: [groupOf[i]], turndown: turndown[i] && i > 0 })),
    services: services.map((s, i) => svc(`svc-${i}`, { scheduling_group: s.group, num_instances: s.n, master_election: s.master })),
  }));

function shuffled<T>(xs: T[], rnd: number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = (rnd * (i + 7919)) % (i + 1) | 0;
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('stable scheduler: properties', () => {
  it('deterministic, and independent of input order', () => {
    fc.assert(
      fc.property(arbInput, fc.integer({ min: 1, max: 1000 }), (input, rnd) => {
        const a = scheduleStable(input);
        expect(scheduleStable(input)).toEqual(a);
        const b = scheduleStable({
          ...input,
          hosts: shuffled(input.hosts, rnd).map((h) => ({ ...h, groups: shuffled(h.groups, rnd) })),
          services: shuffled(input.services, rnd + 1),
        });
        expect(b.assignments).toEqual(a.assignments);
        expect(b.masters).toEqual(a.masters);
      }),
      { numRuns: 300 },
    );
  });
  it('one instance per host, only on candidates, never on turndown hosts; masters among instances', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const r = scheduleStable(input);
        for (const s of input.services) {
          const placed = r.assignments[s.name];
          expect(new Set(placed).size).toBe(placed.length);
          for (const h of placed) {
            const host = input.hosts.find((x) => x.name === h)!;
            expect(host.turndown).toBe(false);
            if (s.scheduling_group) expect(host.groups).toContain(s.scheduling_group);
          }
          if (typeof s.num_instances === 'number' && !r.errors.some((e) => e.service === s.name)) {
            expect(placed).toHaveLength(s.num_instances);
          }
          if (r.masters[s.name]) expect(placed).toContain(r.masters[s.name]);
          if (s.master_election && placed.length > 0) expect(r.masters[s.name]).toBeDefined();
        }
      }),
      { numRuns: 300 },
    );
  });
});
