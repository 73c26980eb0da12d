// float-compat must match upstream float bit for bit. Every expected value below
// was obtained from CPython 3 (zlib.crc32, random.Random, and a transcription of
// upstream's Assignments.schedule / _binpack / _master_election), not from this code.
import { describe, expect, it } from 'vitest';
import { mastersOffInstances, scheduleCompat } from '../../src/scheduler/compat.js';
import { crc32 } from 'node:zlib';
import { PyRandom } from '../../src/scheduler/mt19937.js';
import type { SchedHost, SchedService, ScheduleInput } from '../../src/scheduler/types.js';

function host(name: string, ...groups: string[]): SchedHost {
  return { name, groups, turndown: false };
}

function svc(name: string, opts: Partial<Omit<SchedService, 'name'>> = {}): SchedService {
  return { name, num_instances: 'all', master_election: false, ...opts };
}

function input(hosts: SchedHost[], services: SchedService[]): ScheduleInput {
  return { seed: 'ignored-by-float-compat', hosts, services };
}

/** Expected assignments written compactly: service -> space-separated hosts. */
function lists(spec: Record<string, string>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(spec).map(([s, hosts]) => [s, hosts === '' ? [] : hosts.split(' ')]));
}

describe('crc32', () => {
  it('matches zlib.crc32', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc32('')).toBe(0);
    expect(crc32('host1,host2,host3')).toBe(3303654448);
    expect(crc32('The quick brown fox jumps over the lazy dog')).toBe(1095738169);
  });

  it('encodes strings as UTF-8, like str.encode()', () => {
    expect(crc32('hôst-é,ñode')).toBe(1894463852);
    expect(crc32(new TextEncoder().encode('hôst-é,ñode'))).toBe(1894463852);
  });
});

describe('PyRandom (CPython random.Random)', () => {
  const firstFive: Array<[number, number[]]> = [
    [0, [0.8444218515250481, 0.7579544029403025, 0.420571580830845, 0.25891675029296335, 0.5112747213686085]],
    [1, [0.13436424411240122, 0.8474337369372327, 0.763774618976614, 0.2550690257394217, 0.49543508709194095]],
    [42, [0.6394267984578837, 0.025010755222666936, 0.27502931836911926, 0.22321073814882275, 0.7364712141640124]],
    [3421780262, [0.6056695298577345, 0.8649963017377802, 0.9177001071492331, 0.3085045180549899, 0.6458144050157938]],
    [4294967295, [0.6353574441341173, 0.20319993954407756, 0.6073666030347188, 0.29133552762158776, 0.3400278163075766]],
  ];
  for (const [seed, expected] of firstFive) {
    it(`random.Random(${seed}): first five random() values`, () => {
      const r = new PyRandom(seed);
      expect(Array.from({ length: 5 }, () => r.random())).toEqual(expected);
    });
  }

  it('keeps matching after the state is regenerated (700th and 1000th values)', () => {
    const r = new PyRandom(3421780262);
    const values = Array.from({ length: 1000 }, () => r.random());
    expect(values[699]).toBe(0.0546697850326372);
    expect(values[999]).toBe(0.8139181237829402);
  });

  it('raw outputs match getrandbits(32)', () => {
    expect(new PyRandom(0).nextUint32()).toBe(3626764237);
    expect(new PyRandom(42).nextUint32()).toBe(2746317213);
    expect(new PyRandom(4294967295).nextUint32()).toBe(2728839433);
  });

  it('rejects seeds it cannot reproduce', () => {
    expect(() => new PyRandom(-1)).toThrow(RangeError);
    expect(() => new PyRandom(2 ** 32)).toThrow(RangeError);
    expect(() => new PyRandom(1.5)).toThrow(RangeError);
  });
});

describe('scheduleCompat against upstream float', () => {
  /*
   * Derived by hand (draws from python3 -c 'import random; r = random.Random(3303654448); ...'):
   * Processing order is by name, so db goes first, then web.
   * db, num_instances 1: candidates host1..3, seed crc32("host1,host2,host3") = 3303654448.
   *   All loads 0, one level [host1, host2, host3]. Draws 0.93368..., 0.24714...:
   *   i=2: j=floor(0.93368*3)=2 (no swap); i=1: j=floor(0.24714*2)=0 -> [host2, host1, host3].
   *   First 1 -> db = [host2]; load host2 = 1.
   * db master: pool = the candidates (all 3), same seed, first draw 0.93368 -> index 2 -> host3,
   *   which does not run db (upstream's latent bug).
   * web, num_instances 2: same candidates, same seed. Level 0 = [host1, host3]:
   *   i=1: j=floor(0.93368*2)=1 (no swap) -> 2 hosts, enough: web = [host1, host3].
   * web master: same pool and seed as db's -> host3.
   */
  it('3 hosts, 2 services (derived by hand above)', () => {
    const r = scheduleCompat(
      input(
        [host('host1'), host('host2'), host('host3')],
        [svc('web', { num_instances: 2, master_election: true }), svc('db', { num_instances: 1, master_election: true })],
      ),
    );
    expect(r.errors).toEqual([]);
    expect(r.assignments).toEqual({ db: ['host2'], web: ['host1', 'host3'] });
    expect(r.masters).toEqual({ db: 'host3', web: 'host3' });
  });

  const tenHosts = [
    host('fe1', 'frontend', 'overlay_vpn'),
    host('fe2', 'frontend', 'overlay_vpn'),
    host('fe3', 'frontend'),
    host('fe4', 'frontend'),
    host('be1', 'backend', 'ctl'),
    host('be2', 'backend', 'ctl'),
    host('be3', 'backend'),
    host('be4', 'backend'),
    host('be5', 'backend'),
    host('be6', 'backend'),
  ];
  const tenServices = [
    svc('nginx', { scheduling_group: 'frontend' }),
    svc('api', { scheduling_group: 'backend', num_instances: 2, master_election: true }),
    svc('api-cache', { schedule_with: 'api' }),
    svc('db', { scheduling_group: 'backend', num_instances: 3, master_election: true, master_scheduling_group: 'ctl' }),
    svc('monitor', { num_instances: 1, scheduling_order: -5 }),
    svc('log', { scheduling_groups: ['frontend', 'backend'], num_instances: 3 }),
    svc('auth', { num_instances: 2, master_election: true, scheduling_order: 1 }),
    svc('worker', { schedule_with: 'db', num_instances: 2, master_election: true }),
    svc('vpn-gw', { scheduling_group: 'overlay_vpn', num_instances: 1, master_election: true }),
  ];

  it('10 hosts: groups, num_instances, master election, schedule_with, scheduling_order', () => {
    const r = scheduleCompat(input(tenHosts, tenServices));
    expect(r.errors).toEqual([]);
    expect(r.assignments).toEqual(
      lists({
        api: 'be4 be5',
        'api-cache': 'be4 be5',
        auth: 'be1 be2',
        db: 'be2 be3 be6',
        log: 'fe2 fe3 fe4',
        monitor: 'fe1',
        nginx: 'fe1 fe2 fe3 fe4',
        'vpn-gw': 'fe2',
        worker: 'be3 be6',
      }),
    );
    expect(r.masters).toEqual({ api: 'be2', auth: 'be3', db: 'be1', 'vpn-gw': 'fe1', worker: 'be2' });
  });

  it('does not depend on the order of hosts and services in the input, nor on the seed', () => {
    const reversed = { seed: 'other', hosts: [...tenHosts].reverse(), services: [...tenServices].reverse() };
    expect(scheduleCompat(reversed)).toEqual(scheduleCompat(input(tenHosts, tenServices)));
  });

  it('ignores turndown, as upstream float has none', () => {
    const hosts = tenHosts.map((h) => ({ ...h, turndown: h.name === 'be4' }));
    expect(scheduleCompat(input(hosts, tenServices)).assignments.api).toEqual(['be4', 'be5']);
  });

  // Generated with python3's random.Random(2024): host groups and service attributes at random.
  const FIFTY_HOSTS = `
    host00:backend+db host01:backend+db host02:ctl+db host03:ctl host04:ctl+db host05:db
    host06:db+frontend host07:ctl host08:backend host09:backend+frontend host10:ctl+frontend host11:db
    host12:backend+db host13:db host14:backend+ctl host15:ctl host16:backend host17:backend
    host18:db host19:ctl+db host20:db host21:backend host22:db+frontend host23:db
    host24:backend+ctl host25:backend+db host26:backend+db host27:db host28:frontend host29:backend
    host30:backend host31:backend+ctl host32:frontend host33:db host34:ctl host35:ctl+db
    host36:ctl+frontend host37:db host38:db+frontend host39:backend+frontend host40:backend host41:backend+db
    host42:db host43:db+frontend host44:ctl+frontend host45:frontend host46:backend host47:backend
    host48:ctl host49:backend`;
  const fiftyServices = [
    svc('s00', { num_instances: 'all', master_election: true, scheduling_group: 'frontend' }),
    svc('s01', { num_instances: 5, scheduling_group: 'db', scheduling_order: -1 }),
    svc('s02', { num_instances: 'all', scheduling_groups: ['backend', 'db'], scheduling_order: -1 }),
    svc('s03', { num_instances: 3, master_election: true, scheduling_group: 'ctl' }),
    svc('s04', { num_instances: 1, master_election: true }),
    svc('s05', { num_instances: 1, scheduling_group: 'ctl', scheduling_order: -1 }),
    svc('s06', { num_instances: 2, master_election: true, scheduling_group: 'db' }),
    svc('s07', { num_instances: 5, master_election: true, master_scheduling_group: 'ctl' }),
    svc('s08', { num_instances: 3, scheduling_group: 'db', scheduling_order: 0 }),
    svc('s09', { num_instances: 5, scheduling_order: 1 }),
    svc('s10', { num_instances: 1, master_election: true }),
    svc('s11', { num_instances: 'all', scheduling_group: 'frontend' }),
    svc('s12', { num_instances: 2, scheduling_group: 'backend' }),
    svc('s13', { num_instances: 3 }),
    svc('s14', { num_instances: 1, master_election: true, scheduling_group: 'db' }),
    svc('s15', { num_instances: 5, scheduling_group: 'ctl' }),
    svc('s16', { num_instances: 2, master_election: true, scheduling_group: 'backend', master_scheduling_group: 'ctl' }),
    svc('s17', { num_instances: 3, master_election: true, scheduling_groups: ['backend', 'db'] }),
    svc('s18', { num_instances: 'all', scheduling_group: 'ctl' }),
    svc('s19', { num_instances: 1 }),
  ];

  it('50 hosts, 20 services generated at random', () => {
    const hosts = FIFTY_HOSTS.trim()
      .split(/\s+/)
      .map((spec) => {
        const [name, groups] = spec.split(':');
        return host(name, ...groups.split('+'));
      });
    const r = scheduleCompat(input(hosts, fiftyServices));
    expect(r.errors).toEqual([]);
    expect(r.assignments).toEqual(
      lists({
        s00: 'host06 host09 host10 host22 host28 host32 host36 host38 host39 host43 host44 host45',
        s01: 'host02 host18 host35 host41 host42',
        s02:
          'host00 host01 host02 host04 host05 host06 host08 host09 host11 host12 host13 host14 host16 host17 host18 host19 ' +
          'host20 host21 host22 host23 host24 host25 host26 host27 host29 host30 host31 host33 host35 host37 host38 host39 ' +
          'host40 host41 host42 host43 host46 host47 host49',
        s03: 'host03 host15 host34',
        s04: 'host48',
        s05: 'host07',
        s06: 'host01 host23',
        s07: 'host04 host13 host19 host20 host31',
        s08: 'host05 host12 host27',
        s09: 'host08 host11 host21 host25 host29',
        s10: 'host49',
        s11: 'host06 host09 host10 host22 host28 host32 host36 host38 host39 host43 host44 host45',
        s12: 'host00 host46',
        s13: 'host33 host40 host48',
        s14: 'host37',
        s15: 'host03 host07 host15 host24 host34',
        s16: 'host25 host30',
        s17: 'host16 host17 host47',
        s18: 'host02 host03 host04 host07 host10 host14 host15 host19 host24 host31 host34 host35 host36 host44 host48',
        s19: 'host26',
      }),
    );
    expect(r.masters).toEqual({
      s00: 'host09',
      s03: 'host14',
      s04: 'host01',
      s06: 'host11',
      s07: 'host14',
      s10: 'host01',
      s14: 'host11',
      s16: 'host24',
      s17: 'host16',
    });
  });

  it('sorts names by code point, as Python does (U+FF21 before U+1F600)', () => {
    const r = scheduleCompat(input([host('\u{ff21}'), host('\u{1f600}'), host('z')], [svc('svc', { num_instances: 2, master_election: true })]));
    expect(r.assignments).toEqual({ svc: ['z', '\u{ff21}'] });
    expect(r.masters).toEqual({ svc: '\u{1f600}' });
  });
});

describe('masters off their instances (upstream latent bug)', () => {
  /*
   * Hosts a, b, c, d; one service, num_instances 1, master_election. Seed
   * crc32("a,b,c,d") = 4037726815; draws 0.04551..., 0.34818..., 0.66484...
   * Bin-pack shuffle: i=3 j=0 -> [d,b,c,a]; i=2 j=1 -> [d,c,b,a]; i=1 j=1 -> first is d.
   * Master: a fresh generator with the same seed over the 4 candidates, 0.04551*4 -> index 0 -> a.
   */
  it('elects a master among the candidates, not the instances', () => {
    const r = scheduleCompat(input([host('a'), host('b'), host('c'), host('d')], [svc('svc', { num_instances: 1, master_election: true })]));
    expect(r.assignments).toEqual({ svc: ['d'] });
    expect(r.masters).toEqual({ svc: 'a' });
    expect(mastersOffInstances(r)).toEqual([{ service: 'svc', host: 'a' }]);
  });

  it('reports nothing when every master runs its service', () => {
    const r = scheduleCompat(input([host('a'), host('b')], [svc('svc', { master_election: true })]));
    expect(r.masters).toEqual({ svc: 'b' });
    expect(mastersOffInstances(r)).toEqual([]);
  });

  it('lists every off-instance master of the 10-host fixture, by service', () => {
    const r = {
      assignments: lists({ api: 'be4 be5', db: 'be2 be3 be6', 'vpn-gw': 'fe2', auth: 'be1 be2' }),
      masters: { api: 'be2', db: 'be1', 'vpn-gw': 'fe1', auth: 'be1' },
      errors: [],
    };
    expect(mastersOffInstances(r)).toEqual([
      { service: 'api', host: 'be2' },
      { service: 'db', host: 'be1' },
      { service: 'vpn-gw', host: 'fe1' },
    ]);
  });
});

describe('scheduleCompat errors', () => {
  const hosts = [host('h1', 'web'), host('h2', 'web'), host('h3', 'db')];

  it('num_instances larger than the candidates (F2004), naming service, group and both numbers', () => {
    const r = scheduleCompat(input(hosts, [svc('app', { scheduling_group: 'web', num_instances: 3 })]));
    expect(r.errors).toEqual([
      {
        service: 'app',
        attribute: 'num_instances',
        code: 'F2004',
        message: "service 'app': num_instances is 3, but group 'web' has only 2 host(s)",
      },
    ]);
    expect(r.assignments).toEqual({ app: [] });
  });

  it('exactly as many instances as candidates takes them all', () => {
    const r = scheduleCompat(input(hosts, [svc('app', { scheduling_group: 'web', num_instances: 2 })]));
    expect(r.assignments).toEqual({ app: ['h1', 'h2'] });
  });

  it('scheduling group with no hosts (F2003), on the attribute that names it', () => {
    const r = scheduleCompat(
      input(hosts, [svc('a', { scheduling_group: 'nope' }), svc('b', { scheduling_groups: ['web', 'gone', 'nope'] })]),
    );
    expect(r.errors).toEqual([
      { service: 'a', attribute: 'scheduling_group', code: 'F2003', message: "service 'a': no host is in group 'nope'" },
      { service: 'b', attribute: 'scheduling_groups', index: 1, code: 'F2003', message: "service 'b': no host is in group 'gone'" },
      { service: 'b', attribute: 'scheduling_groups', index: 2, code: 'F2003', message: "service 'b': no host is in group 'nope'" },
    ]);
  });

  it('master_scheduling_group unknown, or with no candidate in it (F2003)', () => {
    const r = scheduleCompat(
      input(hosts, [
        svc('a', { scheduling_group: 'web', master_election: true, master_scheduling_group: 'nope' }),
        svc('b', { scheduling_group: 'web', master_election: true, master_scheduling_group: 'db' }),
      ]),
    );
    expect(r.errors).toEqual([
      { service: 'a', attribute: 'master_scheduling_group', code: 'F2003', message: "service 'a': no host is in group 'nope'" },
      {
        service: 'b',
        attribute: 'master_scheduling_group',
        code: 'F2003',
        message: "service 'b': no host of group 'web' is in master_scheduling_group 'db'",
      },
    ]);
    expect(r.masters).toEqual({});
  });

  it('schedule_with an unknown service (F2005), or in a cycle (F2006)', () => {
    const r = scheduleCompat(
      input(hosts, [svc('a', { schedule_with: 'ghost' }), svc('b', { schedule_with: 'c' }), svc('c', { schedule_with: 'b' })]),
    );
    expect(r.errors.map((e) => [e.service, e.attribute, e.code])).toEqual([
      ['a', 'schedule_with', 'F2005'],
      ['b', 'schedule_with', 'F2006'],
      ['c', 'schedule_with', 'F2006'],
    ]);
    expect(r.errors[0].message).toBe("service 'a': schedule_with names unknown service 'ghost'");
  });

  it('schedule_with a service scheduled later, where upstream crashes (F2005)', () => {
    // Both have schedule_with, so they go by name: 'a' comes before its target 'b'.
    const r = scheduleCompat(input(hosts, [svc('a', { schedule_with: 'b' }), svc('b', { schedule_with: 'c' }), svc('c')]));
    expect(r.errors.map((e) => [e.service, e.attribute, e.code])).toEqual([['a', 'schedule_with', 'F2005']]);
    expect(r.assignments).toEqual({ c: ['h1', 'h2', 'h3'], a: [], b: ['h1', 'h2', 'h3'] });
  });

  it('continues after an error, the failed service counting as placed nowhere', () => {
    // 'bad' fails and places nothing, so 'ok' sees all loads at 0; 'follower' of
    // 'bad' is skipped silently (its cause is already reported).
    const services = [
      svc('bad', { num_instances: 5 }),
      svc('follower', { schedule_with: 'bad' }),
      svc('ok', { num_instances: 1, master_election: true }),
    ];
    const r = scheduleCompat(input([host('a'), host('b'), host('c'), host('d')], services));
    expect(r.errors.map((e) => e.code)).toEqual(['F2004']);
    expect(r.assignments).toEqual({ bad: [], ok: ['d'], follower: [] });
    expect(r.masters).toEqual({ ok: 'a' });
  });
});
