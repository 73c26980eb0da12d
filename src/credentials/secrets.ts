// Application secrets (passwords.yml): generated once from a cryptographic RNG,
// then kept unchanged forever, in credentials_dir/secrets.yml, vault-encrypted.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { FloatUserError } from '../config/diagnostics.js';
import type { PasswordEntry } from '../config/schema/passwords.js';
import { toYaml } from '../inventory/emit.js';
import { writeFileAtomic } from './atomic.js';
import type { VaultCodec } from './types.js';

export type PasswordSpec = Pick<PasswordEntry, 'name' | 'type' | 'length'> & { description?: string };

/**
 * A new secret of exactly `length` characters. Both types use the base64
 * alphabet (the reference: Ansible cannot pass arbitrary bytes on command
 * lines): `password` draws from the URL-safe alphabet, `binary` is standard
 * base64 of random bytes, so it decodes to length*3/4 random bytes.
 */
export function generateSecret(spec: Pick<PasswordSpec, 'type' | 'length'>): string {
  const bytes = randomBytes(Math.ceil((spec.length * 3) / 4) + 3);
  const encoded = spec.type === 'binary' ? bytes.toString('base64') : bytes.toString('base64url');
  return encoded.replace(/=+$/, '').slice(0, spec.length);
}

export interface SecretsUpdate {
  secrets: Record<string, string>;
  generated: string[];
  kept: string[];
  /** In the file but no longer in passwords.yml: kept, and reported. */
  orphaned: string[];
}

export function updateSecrets(existing: Record<string, string>, specs: PasswordSpec[]): SecretsUpdate {
  const secrets: Record<string, string> = { ...existing };
  const generated: string[] = [];
  const kept: string[] = [];
  for (const spec of specs) {
    if (typeof existing[spec.name] === 'string' && existing[spec.name] !== '') kept.push(spec.name);
    else {
      secrets[spec.name] = generateSecret(spec);
      generated.push(spec.name);
    }
  }
  const wanted = new Set(specs.map((s) => s.name));
  const orphaned = Object.keys(existing).filter((k) => !wanted.has(k)).sort();
  return { secrets, generated, kept, orphaned };
}

export function readSecretsFile(path: string, codec: VaultCodec): Record<string, string> {
  if (!existsSync(path)) return {};
  const data = parse(codec.decrypt(readFileSync(path, 'utf8')).toString('utf8')) ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new FloatUserError(`${path}: expected a mapping of secret names to values`, 'F3001');
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, String(v)]));
}

/** Brings secrets.yml up to date; rewrites it only when a secret was generated. */
export async function syncSecretsFile(path: string, specs: PasswordSpec[], codec: VaultCodec): Promise<SecretsUpdate> {
  const update = updateSecrets(readSecretsFile(path, codec), specs);
  if (update.generated.length > 0 || !existsSync(path)) {
    writeFileAtomic(path, codec.encrypt(toYaml(update.secrets)), 0o600);
  }
  return update;
}
