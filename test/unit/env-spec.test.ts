// float env's reading of config.yml's test_env and hosts.yml: the same YAML reader,
// zod schema and positioned diagnostics as the rest of the configuration.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FloatUserError, formatDiagnostic, sortDiagnostics } from '../../src/config/diagnostics.js';
import { cidrOverlap, formatCidr, parseCidr, parseIPv4, pickFreeNetwork, specFromConfig } from '../../src/env/spec.js';

function env(config: string, hosts = 'hosts:\n  h1:\n    ips: [10.9.8.10]\n  h2:\n    ips: [10.9.8.11]\n'): string {
  const dir = mkdtempSync(join(tmpdir(), 'float-env-spec-'));
  writeFileSync(join(dir, 'config.yml'), config);
  writeFileSync(join(dir, 'hosts.yml'), hosts);
  return join(dir, 'config.yml');
}

function errors(configPath: string): string[] {
  try {
    specFromConfig(configPath);
  } catch (e) {
    if (e instanceof FloatUserError) return sortDiagnostics(e.diagnostics).map((d) => formatDiagnostic(d).replace(/^[^:]*\//, ''));
    throw e;
  }
  return [];
}

describe('test_env', () => {
  it('defaults the network to the hosts\' /24 and the gateway to its first address', () => {
    const spec = specFromConfig(env('plugin: float\ntest_env: {}\n'));
    expect(spec.network).toBe('10.9.8.0/24');
    expect(spec.gateway).toBe('10.9.8.1');
    expect(spec.hosts).toEqual([
      { name: 'h1', ip: '10.9.8.10' },
      { name: 'h2', ip: '10.9.8.11' },
    ]);
  });

  it('an unknown key and a wrong type are positioned diagnostics with codes', () => {
    const errs = errors(env('plugin: float\ntest_env:\n  netwrok: 10.9.8.0/24\n  bridge: [x]\n'));
    expect(errs).toEqual([
      expect.stringMatching(/^config\.yml:3:3: error: unknown test_env attribute 'netwrok' in test_env \(did you mean 'network'\?\) \[F1001\]$/),
      expect.stringMatching(/^config\.yml:4:11: error: test_env\.bridge: expected string, got a list \[F1002\]$/),
    ]);
  });

  it('no test_env, or a host without an IPv4 address, is positioned', () => {
    expect(errors(env('plugin: float\n'))[0]).toMatch(/^config\.yml:1:1: error: config\.yml has no test_env.*\[F1003\]$/);
    expect(errors(env('plugin: float\ntest_env: {}\n', 'hosts:\n  h1:\n    ips: [fd00::1]\n'))[0]).toMatch(/^hosts\.yml:2:3: error: host h1 has no IPv4 address.*\[F1003\]$/);
  });
});

describe('IPv4 helpers (ip-num)', () => {
  it('parse addresses and networks, normalising host bits', () => {
    expect(parseIPv4('10.1.2.3')).toBe(167838211n);
    expect(parseIPv4('10.1.2.256')).toBeUndefined();
    expect(parseIPv4('10.1.2')).toBeUndefined();
    expect(formatCidr(parseCidr('10.1.2.3/24')!)).toBe('10.1.2.0/24');
    expect(formatCidr(parseCidr('10.1.2.3')!)).toBe('10.1.2.3/32');
    expect(parseCidr('10.1.2.0/33')).toBeUndefined();
    expect(parseCidr('10.1.2.0/24/1')).toBeUndefined();
    expect(cidrOverlap(parseCidr('10.1.0.0/16')!, parseCidr('10.1.2.0/24')!)).toBe(true);
    expect(cidrOverlap(parseCidr('10.1.3.0/24')!, parseCidr('10.1.2.0/24')!)).toBe(false);
  });

  it('a picked network is a 10.x.y.0/24', () => {
    expect(pickFreeNetwork({ onThisMachine: false })).toMatch(/^10\.\d+\.\d+\.0\/24$/);
    expect(pickFreeNetwork()).toMatch(/^10\.\d+\.\d+\.0\/24$/);
  });
});
