// float check tells the whole truth (issue 22): on many random, valid-looking
// configurations (frontend shapes: public endpoints with modes and paths,
// horizontal and TCP endpoints; overlays; credentials; both schedulers), whenever
// `check` says ok, compile (load, schedule, derive, emit into a temporary
// directory) succeeds and every certificate the inventory asks for can be issued;
// whenever compile refuses, check refused first, with the same codes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { compile } from '../../src/compile.js';
import { FloatUserError } from '../../src/config/diagnostics.js';
import { certRequests } from '../../src/credentials/requests.js';
import { caContext, issueCertificate, newKeyPair, signingKey } from '../../src/credentials/x509.js';
import { tryPlan } from '../../src/plan.js';
import { REPO_ROOT, writeTree } from '../helpers/tree.js';

const GROUPS = ['frontend', 'backend', 'db'];
const SVC_NAMES = ['web', 'api', 'mail', 'db', 'worker'];
/** Ports several services may pick (clashes); 'own' is a port of the service's own (replaced when written). */
const SHARED_PORTS = [8080, 9000, 5004, 25];
const OWN = 'own';

/** Mostly `valid`, sometimes `hostile`: enough valid configurations to compile, enough mistakes to refuse. */
const rare = <T, U>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<U>) => fc.oneof({ weight: 12, arbitrary: valid }, { weight: 1, arbitrary: hostile });
/** Set one time in `every` (else undefined). */
const opt = <T>(arb: fc.Arbitrary<T>, every = 2) => fc.oneof({ weight: every - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
const port = rare(fc.constant(OWN), fc.constantFrom(...SHARED_PORTS));
/** Drops undefined values, so the YAML only has what was chosen. */
const clean = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const publicEndpoint = fc
  .record({
    name: rare(fc.constantFrom('www', 'api', 'admin', 'shop', 'blog'), fc.constant(undefined)),
    domains: opt(fc.subarray(['www.example.com', 'shop.example.net', 'api.example.org'], { minLength: 1 })),
    port,
    scheme: opt(fc.constantFrom('http', 'https')),
    path: opt(fc.constantFrom('/', '/api', 'api/', '/api//', '/docs')),
    mode: opt(fc.constantFrom('proxy', 'http', 'tls-passthrough')),
    enable_sso_proxy: opt(rare(fc.constant(false), fc.constant(true)), 4),
  })
  .map(clean);

const service = fc
  .record({
    scheduling_group: rare(fc.constantFrom(...GROUPS, undefined), fc.constant('nowhere')),
    num_instances: opt(fc.oneof(fc.constant('all'), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 3, max: 6 }))),
    master_election: opt(fc.boolean()),
    master_scheduling_group: opt(fc.constantFrom(...GROUPS), 6),
    schedule_with: opt(rare(fc.constantFrom(...SVC_NAMES), fc.constant('ghost')), 8),
    ports: opt(fc.array(port, { minLength: 1, maxLength: 2 })),
    service_credentials: opt(
      fc.array(
        fc.record({ name: rare(fc.constant(OWN), fc.constantFrom('shared', 'host', 'bad name')), extra_san: opt(rare(fc.constant(['alias']), fc.constant(['bad san']))) }).map(clean),
        { minLength: 1, maxLength: 1 },
      ),
    ),
    public_endpoints: opt(fc.array(publicEndpoint, { minLength: 1, maxLength: 2 })),
    horizontal_endpoints: opt(fc.array(fc.record({ path: rare(fc.constantFrom('/.well-known/x', '/y', '/z'), fc.constant('/.well-known/acme-challenge')), port }), { minLength: 1, maxLength: 1 }), 4),
    public_tcp_endpoints: opt(
      fc.array(fc.record({ name: fc.constantFrom('smtp', 'imap'), port, public_port: opt(rare(fc.constantFrom(2525, 993, 587, 4190), fc.constantFrom(443, 53))) }).map(clean), { minLength: 1, maxLength: 1 }),
      4,
    ),
    public_other_endpoints: opt(fc.constant([{ name: 'other' }]), 6),
    skip_acme: opt(fc.boolean()),
    monitoring_endpoints: opt(fc.constant([{ port: OWN }]), 4),
  })
  .map(clean);

const host = fc.record({
  groups: fc.subarray(GROUPS, { minLength: 1 }),
  vpn: rare(fc.constantFrom(undefined, 'in'), fc.constant('outside')),
  turndown: rare(fc.constant(false), fc.constant(true)),
});

const configuration = fc.record({
  builtins: rare(fc.constant(true), fc.constant(false)),
  scheduler: fc.constantFrom('stable', 'float-compat'),
  testing: fc.boolean(),
  domainPublic: fc.subarray(['example.com', 'example.org'], { minLength: 1 }),
  overlay: rare(fc.boolean(), fc.constant('not-a-cidr')),
  hosts: fc.array(host, { minLength: 2, maxLength: 6 }),
  services: fc.uniqueArray(fc.tuple(fc.constantFrom(...SVC_NAMES), service), { minLength: 1, maxLength: 4, selector: ([n]) => n }),
});

type Configuration = typeof configuration extends fc.Arbitrary<infer T> ? T : never;

/** Replaces OWN with the service's own value: distinct ports (by service and occurrence), its name as credential name. */
function own(value: unknown, name: string, index: number, counter: { n: number }): unknown {
  if (value === OWN) return counter.n === -1 ? name : 10000 + index * 100 + counter.n++;
  if (Array.isArray(value)) return value.map((v) => own(v, name, index, counter));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === 'name' && v === OWN ? name : k === 'port' || k === 'ports' || typeof v === 'object' ? own(v, name, index, counter) : v]),
    );
  }
  return value;
}

function files(c: Configuration): Record<string, string> {
  const hosts: Record<string, unknown> = {};
  c.hosts.forEach((h, i) => {
    hosts[`host${i + 1}`] = clean({
      ips: [`10.0.0.${i + 1}`],
      groups: h.groups,
      turndown: h.turndown || undefined,
      ip_vpn0: !c.overlay ? undefined : h.vpn === 'in' ? `192.168.0.${i + 1}` : h.vpn === 'outside' ? `192.169.0.${i + 1}` : undefined,
    });
  });
  // The same service uses its own port in several places (a container port behind an endpoint): one port per service.
  const services = c.services.map(([name, svc], i) => [name, own(svc, name, i, { n: 0 })]);
  return {
    'config.yml': stringify({ plugin: 'float', scheduler: c.scheduler }),
    'group_vars/all.yml': stringify(
      clean({
        domain: 'internal.example.com',
        domain_public: c.domainPublic,
        testing: c.testing,
        net_overlays: c.overlay ? [{ name: 'vpn0', network: c.overlay === true ? '192.168.0.0/24' : c.overlay }] : undefined,
      }),
    ),
    'hosts.yml': stringify({ hosts }),
    'services.yml': stringify({ ...(c.builtins ? { include: [join(REPO_ROOT, 'services.default.yml')] } : {}), ...Object.fromEntries(services) }),
  };
}

describe('check ⇔ compile', () => {
  const ca = signingKey(newKeyPair().pkcs8);
  const leaf = newKeyPair();
  const ctx = caContext(ca);
  const now = new Date('2026-01-01T00:00:00Z');
  const seen = { ok: 0, refused: 0, codes: new Set<string>(), runs: {} as Record<string, number> };

  it('whenever check says ok, compile succeeds and its certificates can be issued; whenever compile refuses, check refused with the same codes', () => {
    fc.assert(
      fc.property(configuration, (c) => {
        const dir = writeTree(files(c), 'float-prop-');
        const out = mkdtempSync(join(tmpdir(), 'float-prop-out-'));
        try {
          const checked = tryPlan(join(dir, 'config.yml'));
          const checkErrors = checked.diagnostics.filter((d) => d.severity === 'error');
          let refused: FloatUserError | undefined;
          try {
            const compiled = compile(join(dir, 'config.yml'), { out: join(out, 'inventory') });
            for (const req of certRequests(compiled.inventory)) issueCertificate(req, leaf.spki, ctx, now);
          } catch (err) {
            // Anything but a user error (a bug, an internal assertion) fails the property.
            if (!(err instanceof FloatUserError)) throw err;
            refused = err;
          }
          if (checked.plan) {
            expect(checkErrors).toEqual([]);
            expect(refused?.diagnostics).toBeUndefined();
            seen.ok++;
          } else {
            expect(checkErrors.length).toBeGreaterThan(0);
            expect(refused).toBeDefined();
            expect([...new Set(refused!.diagnostics.map((d) => d.code))].sort()).toEqual([...new Set(checkErrors.map((d) => d.code))].sort());
            for (const d of checkErrors) seen.codes.add(d.code);
            for (const code of new Set(checkErrors.map((d) => d.code))) seen.runs[code] = (seen.runs[code] ?? 0) + 1;
            seen.refused++;
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
          rmSync(out, { recursive: true, force: true });
        }
      }),
      { numRuns: 250, seed: Number(process.env.FLOAT_PROPERTY_SEED ?? 22) },
    );
    // FLOAT_PROPERTY_STATS=1 prints how many configurations each code refused.
    if (process.env.FLOAT_PROPERTY_STATS) console.log(seen);
    // The generator must reach both sides, and the frontend checks among the refusals.
    expect(seen.ok).toBeGreaterThan(25);
    expect(seen.refused).toBeGreaterThan(25);
    for (const code of ['F2001', 'F2002', 'F2003', 'F2014', 'F2020', 'F2021', 'F2023', 'F1012']) expect(seen.codes).toContain(code);
  }, 60_000);
});
