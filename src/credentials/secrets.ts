// Application secrets (passwords.yml): generated once from a cryptographic RNG,
// then kept unchanged forever, in credentials_dir/secrets.yml, vault-encrypted.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { parse, parseDocument } from 'yaml';
import { FloatUserError } from '../config/diagnostics.js';
import { parseDecryptedYaml } from '../config/source.js';
import type { PasswordEntry } from '../config/schema/passwords.js';
import { toYaml } from '../inventory/emit.js';
import { writeFileAtomic } from './atomic.js';
import type { VaultCodec } from './types.js';
import { decryptVaultFile } from './vault.js';

export type PasswordSpec = Pick<PasswordEntry, 'name' | 'type' | 'length'> & { description?: string };

/**
 * A new secret of exactly `length` characters from the CSPRNG. As the reference
 * says, both types use the base64 alphabet (A-Z a-z 0-9 + /, no padding):
 * Ansible cannot pass arbitrary bytes on remote command lines. Every character
 * carries 6 uniformly random bits (only whole base64 digits are used).
 */
export function generateSecret(spec: Pick<PasswordSpec, 'type' | 'length'>): string {
  const bytes = randomBytes(Math.ceil((spec.length * 3) / 4) + 3);
  return bytes.toString('base64').slice(0, spec.length);
}

/** A value of secrets.yml counts as set unless it is missing, null or the empty string. */
function isSet(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '';
}

export interface SecretsUpdate {
  /** Every value, as it will be in secrets.yml (existing values untouched, whatever their type). */
  secrets: Record<string, unknown>;
  generated: string[];
  kept: string[];
  /** In the file but no longer in passwords.yml: kept, and reported. */
  orphaned: string[];
}

function updateSecrets(existing: Record<string, unknown>, specs: PasswordSpec[]): SecretsUpdate {
  const secrets: Record<string, unknown> = { ...existing };
  const generated: string[] = [];
  const kept: string[] = [];
  const seen = new Set<string>();
  for (const spec of specs) {
    // A name listed twice (passwords.yml.default and the operator's file) is one secret; the first entry wins.
    if (seen.has(spec.name)) continue;
    seen.add(spec.name);
    if (isSet(existing[spec.name])) kept.push(spec.name);
    else {
      secrets[spec.name] = generateSecret(spec);
      generated.push(spec.name);
    }
  }
  const orphaned = Object.keys(existing)
    .filter((k) => !seen.has(k))
    .sort();
  return { secrets, generated, kept, orphaned };
}

/** The decrypted text of secrets.yml and its values ('' and {} when there is no file yet). */
function readSecrets(path: string, codec: VaultCodec): { text: string; values: Record<string, unknown> } {
  if (!existsSync(path)) return { text: '', values: {} };
  const text = decryptVaultFile(path, codec).toString('utf8');
  return { text, values: parseSecrets(path, text) };
}

function parseSecrets(path: string, text: string): Record<string, unknown> {
  // As Ansible reads this file; an error gives the position, never the decrypted text.
  const data = parseDecryptedYaml(path, text) ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new FloatUserError(`${path}: expected a mapping of secret names to values`, 'F3011');
  return data as Record<string, unknown>;
}

export function readSecretsFile(path: string, codec: VaultCodec): Record<string, unknown> {
  return readSecrets(path, codec).values;
}

/**
 * The new text of secrets.yml: the existing text unchanged (values, comments,
 * layout) with the generated secrets added. Appended at the end when that is
 * plainly right; otherwise set through the YAML document model; either way the
 * result is parsed back and checked.
 */
function withGenerated(path: string, text: string, existing: Record<string, unknown>, added: Record<string, string>): string {
  if (Object.keys(existing).length === 0 && !/^\s*#/m.test(text)) return toYaml(added);
  const check = (candidate: string): boolean => {
    try {
      const back = parse(candidate, { version: '1.1' }) as Record<string, unknown> | null;
      if (!back || typeof back !== 'object') return false;
      const want = new Set([...Object.keys(existing), ...Object.keys(added)]);
      return Object.keys(back).length === want.size && Object.entries(added).every(([k, v]) => back[k] === v);
    } catch {
      return false;
    }
  };
  if (Object.keys(added).every((k) => !(k in existing))) {
    const appended = `${text.replace(/\s*$/, '')}\n${toYaml(added)}`;
    if (check(appended)) return appended;
  }
  const doc = parseDocument(text, { version: '1.1' });
  for (const [k, v] of Object.entries(added)) doc.set(k, v);
  const edited = String(doc);
  if (check(edited)) return edited;
  throw new FloatUserError(`${path}: cannot add the new secrets (${Object.keys(added).join(', ')}) to this file; make it a plain YAML mapping`, 'F3011');
}

/** Brings secrets.yml up to date; rewrites it only when a secret was generated. */
export async function syncSecretsFile(path: string, specs: PasswordSpec[], codec: VaultCodec): Promise<SecretsUpdate> {
  const { text, values } = readSecrets(path, codec);
  const update = updateSecrets(values, specs);
  if (update.generated.length > 0 || !existsSync(path)) {
    const added = Object.fromEntries(update.generated.map((k) => [k, update.secrets[k] as string]));
    writeFileAtomic(path, codec.encrypt(withGenerated(path, text, values, added)), 0o600);
  }
  return update;
}
