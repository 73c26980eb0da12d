// float-compat against an independent oracle: upstream float's algorithm as
// issue 4 describes it, written in Python with CPython's own random.Random and
// zlib.crc32 (not our MT19937 or CRC-32), run on random configurations with
// load levels, schedule_with, scheduling_order and master_scheduling_group.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { skipUnlessRequired } from '../helpers/prerequisites.js';
import { REPO_ROOT, baseTree, writeTree } from '../helpers/tree.js';
import { scheduleCompat } from '../../src/scheduler/compat.js';
import type { SchedService, ScheduleInput, ScheduleResult } from '../../src/scheduler/types.js';

const ORACLE = String.raw`
import json, random, sys, zlib

def generator(hosts):
    # Seeded with the CRC-32 of the sorted host names joined by ',' (step 8).
    return random.Random(zlib.crc32(','.join(hosts).encode('utf-8')) & 0xffffffff)

def py2_shuffle(r, x):
    for i in reversed(range(1, len(x))):
        j = int(r.random() * (i + 1))
        x[i], x[j] = x[j], x[i]

def py2_choice(r, seq):
    return seq[int(r.random() * len(seq))]

stats = {'multilevel': 0, 'spill': 0}

def binpack(candidates, load, n):
    if n == len(candidates):
        return candidates
    hosts = sorted(candidates)
    r = generator(hosts)
    levels = {}
    for h in hosts:
        levels.setdefault(load.get(h, 0), []).append(h)
    if len(levels) > 1:
        stats['multilevel'] += 1
    if len(levels[min(levels)]) < n:
        stats['spill'] += 1
    out = []
    for level in sorted(levels):
        tier = levels[level]
        py2_shuffle(r, tier)
        out.extend(tier)
        if len(out) >= n:
            break
    return out[:n]

class Crash(Exception):
    pass

def schedule(cfg):
    groups = {}
    for h in cfg['hosts']:
        names = ['all'] + h['groups'] + ['overlay_' + k[3:] for k in h['vars'] if k.startswith('ip_')]
        for g in names:
            groups.setdefault(g, set()).add(h['name'])
    groups = dict((g, sorted(v)) for g, v in groups.items())
    services = [s for s in cfg['services'] if s.get('enabled', True)]
    order = sorted(services, key=lambda s: (s.get('scheduling_order', -1), 1 if 'schedule_with' in s else 0, s['name']))
    load, assignments, masters = {}, {}, {}
    for s in order:
        name = s['name']
        if 'schedule_with' in s:
            if s['schedule_with'] not in assignments:
                raise Crash([name, 'schedule_with'])
            candidates = list(assignments[s['schedule_with']])
        else:
            names = [s['scheduling_group']] if 'scheduling_group' in s else s.get('scheduling_groups', ['all'])
            candidates = []
            for g in names:
                if g not in groups:
                    raise Crash([name, 'group'])
                for h in groups[g]:
                    if h not in candidates:
                        candidates.append(h)
        n = s.get('num_instances', 'all')
        if n == 'all':
            hosts = sorted(candidates)
        elif n > len(candidates):
            raise Crash([name, 'num_instances'])
        else:
            hosts = sorted(binpack(candidates, load, n))
        for h in hosts:
            load[h] = load.get(h, 0) + 1
        assignments[name] = hosts
        if s.get('master_election'):
            pool = candidates
            if 'master_scheduling_group' in s:
                members = set(groups.get(s['master_scheduling_group'], []))
                pool = [h for h in candidates if h in members]
            pool = sorted(pool)
            if not pool:
                raise Crash([name, 'master_scheduling_group'])
            masters[name] = py2_choice(generator(pool), pool)
    return {'assignments': assignments, 'masters': masters}

out = []
for cfg in json.load(sys.stdin):
    try:
        out.append(schedule(cfg))
    except Crash as e:
        out.append({'crash': e.args[0]})
json.dump({'results': out, 'stats': stats}, sys.stdout)
`;

/** A deterministic PRNG (mulberry32), so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface OracleHost {
  name: string;
  groups: string[];
  vars: Record<string, string>;
}
interface Case {
  input: ScheduleInput;
  oracle: { hosts: OracleHost[]; services: Array<Record<string, unknown>> };
}

const GROUPS = ['frontend', 'backend', 'db', 'ctl'];
// Some names outside ASCII: Python sorts by code point and CRCs the UTF-8 bytes.
const EXOTIC = ['hôst-é', 'ñode', 'ß-box', 'Ωmega', '\u{1f600}-emoji', '\u{ff21}-wide'];

function randomCase(seed: number, asciiOnly = false): Case {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const numHosts = 2 + Math.floor(r() * (seed % 4 === 0 ? 60 : 18));
  const hosts: OracleHost[] = [];
  for (let i = 0; i < numHosts; i++) {
    const name = r() < 0.08 && !asciiOnly ? `${pick(EXOTIC)}${i}` : `host${String(i).padStart(2, '0')}`;
    const groups = GROUPS.filter(() => r() < 0.35);
    const vars: Record<string, string> = {};
    if (r() < 0.4) vars.ip_vpn = `10.9.0.${i + 1}`;
    hosts.push({ name, groups, vars });
  }
  // Groups that exist (someone is in them), so that most services are valid.
  const existing = ['all', ...new Set(hosts.flatMap((h) => [...h.groups, ...Object.keys(h.vars).map((k) => `overlay_${k.slice(3)}`)]))];
  const members = (g: string) => hosts.filter((h) => g === 'all' || h.groups.includes(g) || (g === 'overlay_vpn' && h.vars.ip_vpn)).map((h) => h.name);
  const numServices = 1 + Math.floor(r() * 24);
  const services: SchedService[] = [];
  const size = new Map<string, number>();
  // Mostly valid configurations (counts that fit, targets scheduled first), some not: upstream crashes there.
  const valid = () => r() < 0.93;
  for (let i = 0; i < numServices; i++) {
    const s: SchedService = { name: `svc-${String.fromCharCode(97 + (i % 26))}${i}`, num_instances: 'all', master_election: r() < 0.45 };
    let candidates: string[];
    if (services.length > 0 && r() < 0.25) {
      const target = pick(services);
      s.schedule_with = target.name;
      // The target goes first when its scheduling_order is lower; else by name among followers.
      if (target.scheduling_order !== undefined || r() < 0.3) s.scheduling_order = (target.scheduling_order ?? -1) + (valid() ? 1 : -1);
      candidates = Array.from({ length: size.get(target.name) ?? 0 }, (_, k) => `t${k}`);
    } else {
      const shape = r();
      if (shape < 0.45) s.scheduling_group = pick(existing);
      else if (shape < 0.6) s.scheduling_groups = [pick(existing), pick(existing)];
      else if (shape < 0.65) {
        // Both set: scheduling_group wins.
        s.scheduling_group = pick(existing);
        s.scheduling_groups = [pick(existing)];
      }
      const names = s.scheduling_group ? [s.scheduling_group] : (s.scheduling_groups ?? ['all']);
      candidates = [...new Set(names.flatMap(members))];
      if (r() < 0.3) s.scheduling_order = Math.floor(r() * 5) - 2;
    }
    if (r() < 0.7 && candidates.length > 0) s.num_instances = 1 + Math.floor(r() * (valid() ? Math.min(4, candidates.length) : 5));
    size.set(s.name, s.num_instances === 'all' ? candidates.length : s.num_instances);
    if (s.master_election && r() < 0.35) {
      const fits = existing.filter((g) => s.schedule_with || members(g).some((h) => candidates.includes(h)));
      s.master_scheduling_group = pick(valid() && fits.length > 0 ? fits : existing);
    }
    services.push(s);
  }
  return {
    input: {
      seed: 'ignored',
      // As scheduleInput builds them: groups as written, plus overlay_<net> for each ip_<net>.
      hosts: hosts.map((h) => ({ name: h.name, groups: [...h.groups, ...Object.keys(h.vars).map((k) => `overlay_${k.slice(3)}`)], turndown: false })),
      services,
    },
    oracle: {
      hosts,
      services: services.map((s) => Object.fromEntries(Object.entries(s).filter(([k, v]) => v !== undefined && !(k === 'master_election' && v === false)))),
    },
  };
}

type OracleResult = { assignments: Record<string, string[]>; masters: Record<string, string> } | { crash: [string, string] };

/** The oracle's results, and how often bin-packing met hosts of different loads (and had to go past the least loaded). */
function runOracle(cases: Case[]): { results: OracleResult[]; stats: { multilevel: number; spill: number } } {
  const res = spawnSync('python3', ['-c', ORACLE], { input: JSON.stringify(cases.map((c) => c.oracle)), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`python3 oracle failed: ${res.stderr}`);
  return JSON.parse(res.stdout);
}

const hasPython =
  skipUnlessRequired('the float-compat oracle tests', spawnSync('python3', ['--version']).status === 0 ? undefined : 'python3 is not installed') === undefined;

/** Which of our error codes stands for each way upstream crashes. */
const CRASH_CODES: Record<string, string[]> = {
  schedule_with: ['F2005', 'F2006'],
  group: ['F2003'],
  num_instances: ['F2004'],
  master_scheduling_group: ['F2003'],
};

describe.skipIf(!hasPython)('float-compat against a Python oracle (CPython random.Random and zlib.crc32)', () => {
  const cases = Array.from({ length: 400 }, (_, i) => randomCase(1000 + i));
  const { results: expected, stats } = hasPython ? runOracle(cases) : { results: [], stats: { multilevel: 0, spill: 0 } };

  it('the oracle itself reproduces the known CPython values (seed 0, 42; CRC of "123456789")', () => {
    const check = spawnSync(
      'python3',
      ['-c', 'import random, zlib; print(repr(random.Random(0).random()), repr(random.Random(42).random()), hex(zlib.crc32(b"123456789")))'],
      { encoding: 'utf8' },
    );
    expect(check.stdout.trim()).toBe('0.8444218515250481 0.6394267984578837 0xcbf43926');
  });

  it('the random configurations exercise what matters: load levels, schedule_with, order, master groups, crashes', () => {
    const ok = expected.filter((e): e is Exclude<OracleResult, { crash: [string, string] }> => !('crash' in e));
    expect(ok.length).toBeGreaterThan(200);
    expect(expected.length - ok.length).toBeGreaterThan(10);
    const services = cases.flatMap((c, i) => ('crash' in expected[i] ? [] : c.input.services));
    expect(services.filter((s) => s.schedule_with).length).toBeGreaterThan(100);
    expect(services.filter((s) => s.master_scheduling_group).length).toBeGreaterThan(50);
    expect(services.filter((s) => s.scheduling_order !== undefined).length).toBeGreaterThan(100);
    // Bin-packing over hosts that already carry different loads, often past the least loaded level.
    expect(stats.multilevel).toBeGreaterThan(500);
    expect(stats.spill).toBeGreaterThan(100);
    // Upstream's latent bug shows: masters on hosts that do not run the service.
    const off = ok.flatMap((e) => Object.entries(e.masters).filter(([svc, m]) => !e.assignments[svc].includes(m)));
    expect(off.length).toBeGreaterThan(100);
  });

  it('same assignments and masters as the oracle on 400 random configurations', () => {
    for (const [i, c] of cases.entries()) {
      const ours: ScheduleResult = scheduleCompat(c.input);
      const theirs = expected[i];
      const context = `case ${i} (seed ${1000 + i}): ${JSON.stringify(c.oracle)}`;
      if ('crash' in theirs) {
        const [service, why] = theirs.crash;
        // Upstream stops with an exception; we report an error on that service.
        expect(
          ours.errors.some((e) => e.service === service && CRASH_CODES[why].includes(e.code)),
          `${context}\nupstream crashes on ${service} (${why}); our errors: ${JSON.stringify(ours.errors)}`,
        ).toBe(true);
        continue;
      }
      expect(ours.errors, context).toEqual([]);
      expect(ours.assignments, context).toEqual(theirs.assignments);
      expect(ours.masters, context).toEqual(theirs.masters);
    }
  });
});

describe.skipIf(!hasPython)('float schedule --json with scheduler: float-compat, against the Python oracle', () => {
  it('prints upstream assignments and masters for configurations written as files (disabled services dropped)', () => {
    let compared = 0;
    for (let seed = 5000; compared < 4; seed++) {
      const c = randomCase(seed, true);
      if (c.input.hosts.length < 8 || c.input.services.length < 8) continue;
      // One more service, disabled: upstream drops it before anything else.
      const oracleInput = { ...c.oracle, services: [...c.oracle.services, { name: 'zz-disabled', enabled: false, num_instances: 1, master_election: true }] };
      const [theirs] = runOracle([{ ...c, oracle: oracleInput }]).results;
      if ('crash' in theirs) continue;
      const hosts = Object.fromEntries(
        c.oracle.hosts.map((h, i) => [h.name, { ips: [`10.0.${i >> 8}.${(i & 255) + 1}`], groups: h.groups, ...h.vars }]),
      );
      const services = Object.fromEntries(oracleInput.services.map(({ name, ...attrs }) => [name as string, attrs]));
      const dir = writeTree(
        baseTree({
          'config.yml': 'plugin: float\nscheduler: float-compat\n',
          'group_vars/all.yml': 'domain: internal.example.com\ndomain_public: [example.com]\nnet_overlays: [{name: vpn, network: 10.9.0.0/16}]\n',
          'hosts.yml': stringify({ hosts }),
          'services.yml': stringify(services),
        }),
      );
      const run = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/float.mjs'), 'schedule', '--json', '--config', join(dir, 'config.yml')], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({
        assignments: Object.fromEntries(Object.keys(theirs.assignments).sort().map((k) => [k, theirs.assignments[k]])),
        masters: Object.fromEntries(Object.keys(theirs.masters).sort().map((k) => [k, theirs.masters[k]])),
      });
      compared++;
    }
  });
});
