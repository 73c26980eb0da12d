// Defence in depth (issue 14): a path built from a configuration value stays
// under its base directory, even when the load-time name checks are bypassed.
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FloatUserError } from '../../src/config/diagnostics.js';
import { pathSegment, safeJoin, within } from '../../src/config/safe-path.js';
import { ensureCertificates, hostKeysPath } from '../../src/credentials/pki-store.js';
import { certId } from '../../src/credentials/requests.js';
import { makeVaultCodec } from '../../src/credentials/vault.js';
import { emitInventory } from '../../src/inventory/emit.js';

function userError(f: () => unknown): FloatUserError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(FloatUserError);
    return err as FloatUserError;
  }
  throw new Error('expected a FloatUserError');
}

describe('safe paths', () => {
  it('pathSegment refuses ., .., separators, NUL and the empty string, naming the value', () => {
    for (const v of ['', '.', '..', 'a/b', '../x', 'a\0b']) {
      const e = userError(() => pathSegment(v, 'host name'));
      expect(e.diagnostics[0].code).toBe('F1024');
      expect(e.message).toContain(`host name ${JSON.stringify(v)}`);
    }
    expect(pathSegment('host1', 'host name')).toBe('host1');
    expect(pathSegment('..a', 'host name')).toBe('..a');
  });

  it('within keeps a relative path under its base', () => {
    expect(within('/base', 'a/b.yml')).toBe('/base/a/b.yml');
    expect(within('/base', '..x/y')).toBe('/base/..x/y');
    for (const rel of ['../x', 'a/../../x', '/etc/passwd', '.', 'a/..']) {
      expect(userError(() => within('/base', rel)).diagnostics[0].code).toBe('F1024');
    }
    expect(safeJoin('/base', 'x', 'a', 'b')).toBe('/base/a/b');
  });

  it('emitInventory with a host named ../../../x writes nothing, outside or inside', () => {
    const root = mkdtempSync(join(tmpdir(), 'float-safe-'));
    const out = join(root, 'a', 'b', 'inv');
    const inv = { hostGroups: { '../../../x': [] }, hostVars: { '../../../x': { v: 1 } }, groupVars: {} };
    expect(userError(() => emitInventory(inv, out)).diagnostics[0].code).toBe('F1024');
    const bad = { hostGroups: {}, hostVars: {}, groupVars: { '../../g': { f: { v: 1 } } } };
    expect(userError(() => emitInventory(bad, out)).diagnostics[0].code).toBe('F1024');
    expect(readdirSync(join(root, 'a', 'b'))).toEqual([]);
    expect(readdirSync(root)).toEqual(['a']);
  });

  it('credential paths: a host or credential name with ../ is refused before anything is written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'float-safe-'));
    const creds = join(dir, 'c', 'd', 'credentials');
    expect(userError(() => hostKeysPath(creds, '../../../pwned')).diagnostics[0].code).toBe('F1024');
    expect(userError(() => certId('host1', '../../../pwned', 'server')).diagnostics[0].code).toBe('F1024');
    const codec = makeVaultCodec('pw');
    const request = { id: 'host1/../../../../pwned/server', kind: 'server' as const, commonName: 'x', dnsNames: ['x'], ipAddresses: [], mode: 'server' as const };
    await expect(ensureCertificates(creds, [request], codec, new Date())).rejects.toBeInstanceOf(FloatUserError);
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
    expect(existsSync(join(dir, 'c', 'pwned'))).toBe(false);
  });
});
