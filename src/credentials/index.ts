// Brings credentials_dir up to date with the compiled inventory: application
// secrets, the X.509 PKI and the SSH CA. Stateful and idempotent.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Model } from '../config/load.js';
import type { Inventory } from '../inventory/types.js';
import { ensureCertificates } from './pki-store.js';
import { certRequests } from './requests.js';
import { syncSecretsFile } from './secrets.js';
import { ensureSshCa } from './ssh-ca.js';
import type { VaultCodec } from './types.js';

export interface CredentialsReport {
  secretsGenerated: string[];
  secretsOrphaned: string[];
  certsIssued: number;
  certsKept: number;
  certsStale: string[];
}

export function secretsPath(model: Model): string {
  return join(model.config.credentials_dir, 'secrets.yml');
}

export async function refreshCredentials(model: Model, inv: Inventory, codec: VaultCodec, now = new Date()): Promise<CredentialsReport> {
  const dir = model.config.credentials_dir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secrets = await syncSecretsFile(secretsPath(model), model.passwords, codec);
  const certs = await ensureCertificates(dir, certRequests(inv), codec, now);
  if (model.globals.enable_ssh) await ensureSshCa(dir, codec);
  return {
    secretsGenerated: secrets.generated,
    secretsOrphaned: secrets.orphaned,
    certsIssued: certs.issued.length,
    certsKept: certs.kept.length,
    certsStale: certs.stale,
  };
}

/** The encrypted secrets file, as it should appear in the inventory's group_vars/all. */
export function secretsInventoryFile(model: Model): string {
  return readFileSync(secretsPath(model), 'utf8');
}
