// "No stack trace for any user mistake": arbitrary (well-formed YAML, badly shaped)
// services, hosts and overlays must come back as diagnostics, never as an exception.
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { tryPlan } from '../../src/plan.js';
import { baseTree, writeTree } from '../helpers/tree.js';

const KEYS = [
  'scheduling_group', 'scheduling_groups', 'num_instances', 'master_election', 'master_scheduling_group', 'schedule_with',
  'containers', 'ports', 'public_endpoints', 'public_tcp_endpoints', 'monitoring_endpoints', 'datasets', 'volumes',
  'annotations', 'service_credentials', 'enabled', 'name', 'image', 'port', 'path', 'domains', 'include', 'ip', 'ips',
  'ip_vpn', 'groups', 'network', 'public_port', 'backup_command',
];
const SCALARS = [null, true, 0, 1, 80, 'all', 'backend', 'x', '10.0.0.1', '192.168.0.0/24', 'missing.yml', -1, 1.5, 'vpn'];

const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(...SCALARS),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('v'), { maxKeys: 4 }),
  ),
})).v;

describe('robustness', () => {
  it('badly shaped configurations give positioned diagnostics, not exceptions', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('web', 'a', 'b', 'include', 'bad_name'), value, { maxKeys: 4 }),
        value,
        value,
        (services, host, overlays) => {
          const dir = writeTree(
            baseTree({
              'services.yml': stringify(services),
              'hosts.yml': stringify({ hosts: { h1: host, h2: { ips: ['10.0.0.9'], groups: ['backend'] } } }),
              'group_vars/all.yml': stringify({ domain: 'd', domain_public: ['p'], net_overlays: overlays }),
            }),
          );
          const r = tryPlan(join(dir, 'config.yml'));
          // Either a plan, or at least one error; each with a stable code and a position.
          expect(r.plan !== undefined || r.diagnostics.some((d) => d.severity === 'error')).toBe(true);
          for (const d of r.diagnostics) {
            expect(d.code).toMatch(/^F\d{4}$/);
            expect(d.pos, d.message).toBeDefined();
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
