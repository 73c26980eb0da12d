// Brings credentials_dir up to date with the compiled inventory: application
// secrets, the X.509 PKI and the SSH CA. Stateful and idempotent.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Model } from '../config/load.js';
import type { Inventory } from '../inventory/types.js';
import { adminPaths, checkAdminCaFiles, ensureConfiguredAdminCertificates } from './admin-ca.js';
import { caPaths, checkCaFiles, ensureCertificates } from './pki-store.js';
import { certRequests } from './requests.js';
import { syncSecretsFile } from './secrets.js';
import { checkSshCaFiles, ensureSshCa, sshCaPaths } from './ssh-ca.js';
import type { VaultCodec } from './types.js';
import { decryptVaultFile } from './vault.js';
import { ensureWireguardKeys, overlayMembers, type WireguardReport } from './wireguard.js';
import { ensureBackupSshKey, needsBackupSshKey } from './backup-ssh-key.js';

export interface CredentialsReport {
  secretsGenerated: string[];
  secretsOrphaned: string[];
  certsIssued: number;
  certsKept: number;
  certsStale: string[];
  /** The internal CA certificate was renewed (same key) and is now valid until then. */
  caRenewedUntil?: Date;
  /** WireGuard key pairs of the overlay members (src/credentials/wireguard.ts). */
  overlayKeys?: WireguardReport;
  /** Admin client certificates (admin CA): issued in this run, and revoked (admins removed). */
  adminCertsIssued?: string[];
  adminCertsRevoked?: string[];
}

export function secretsPath(model: Model): string {
  return join(model.config.credentials_dir, 'secrets.yml');
}

/**
 * Everything that can fail before a write, checked before the first write: the
 * vault password opens the long-lived vault files already there (a wrong
 * password must not leave files encrypted with two passwords), and no CA is
 * half present.
 */
function checkCredentialsDir(dir: string, codec: VaultCodec, opts: { ssh: boolean }): void {
  checkCaFiles(dir);
  if (opts.ssh) checkSshCaFiles(dir);
  checkAdminCaFiles(dir);
  // secrets.yml is decrypted before anything is written by syncSecretsFile itself.
  for (const f of [caPaths(dir).key, sshCaPaths(dir).privateKey, adminPaths(dir).caKey]) if (existsSync(f)) decryptVaultFile(f, codec);
}

export async function refreshCredentials(model: Model, inv: Inventory, codec: VaultCodec, now = new Date()): Promise<CredentialsReport> {
  const dir = model.config.credentials_dir;
  checkCredentialsDir(dir, codec, { ssh: model.globals.enable_ssh });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secrets = await syncSecretsFile(secretsPath(model), model.passwords, codec);
  const certs = await ensureCertificates(dir, certRequests(inv), codec, now);
  if (model.globals.enable_ssh) await ensureSshCa(dir, codec);
  const overlayKeys = ensureWireguardKeys(dir, overlayMembers(model), codec);
  if (needsBackupSshKey(model.globals.backup_repository_uri)) ensureBackupSshKey(dir, codec);
  const admin = ensureConfiguredAdminCertificates(model, codec, now);
  return {
    adminCertsIssued: admin.issued,
    adminCertsRevoked: admin.revoked,
    secretsGenerated: secrets.generated,
    secretsOrphaned: secrets.orphaned,
    certsIssued: certs.issued.length,
    certsKept: certs.kept.length,
    certsStale: certs.stale,
    caRenewedUntil: certs.caRenewedUntil,
    overlayKeys,
  };
}

/**
 * What a refresh did, for the operator: counts, and what was kept although
 * nothing asks for it any more (never deleted silently). Every command that
 * refreshes credentials should print at least the `kept` lines.
 */
export function formatCredentialsReport(dir: string, c: CredentialsReport): string[] {
  const lines = [
    `credentials in ${dir}:`,
    `  certificates: ${c.certsIssued} issued, ${c.certsKept} unchanged`,
    `  secrets: ${c.secretsGenerated.length} generated${c.secretsGenerated.length ? ` (${c.secretsGenerated.join(', ')})` : ''}`,
  ];
  if (c.caRenewedUntil) {
    lines.push(`  internal CA certificate renewed with the same key, valid until ${c.caRenewedUntil.toISOString().slice(0, 10)}; every certificate it signed stays valid`);
  }
  if (c.adminCertsIssued?.length) lines.push(`  admin certificates issued: ${c.adminCertsIssued.join(', ')} (export one with float admin-cert NAME)`);
  if (c.adminCertsRevoked?.length) lines.push(`  admin certificates revoked (admins removed): ${c.adminCertsRevoked.join(', ')}; the frontends refuse them after the next float run`);
  if (c.certsStale.length) lines.push(`  kept ${c.certsStale.length} certificates no longer needed: ${c.certsStale.join(', ')}`);
  if (c.overlayKeys && (c.overlayKeys.generated.length || c.overlayKeys.kept)) {
    const g = c.overlayKeys.generated;
    lines.push(`  WireGuard keys: ${g.length} generated${g.length ? ` (${g.join(', ')})` : ''}, ${c.overlayKeys.kept} unchanged`);
  }
  if (c.overlayKeys?.stale.length) lines.push(`  kept WireGuard keys of ${c.overlayKeys.stale.length} hosts on no overlay: ${c.overlayKeys.stale.join(', ')}`);
  if (c.secretsOrphaned.length) lines.push(`  kept ${c.secretsOrphaned.length} secrets no longer in passwords.yml: ${c.secretsOrphaned.join(', ')}`);
  return lines;
}

/** The encrypted secrets file, as it should appear in the inventory's group_vars/all. */
export function secretsInventoryFile(model: Model): string {
  return readFileSync(secretsPath(model), 'utf8');
}
