// The admin CA: a CA of its own (ECDSA P-256, like the internal CA, but a
// different key and name, so no service certificate is ever an admin proof)
// issuing one TLS client certificate per admin, for the admin-only endpoints of
// the frontends (enable_sso_proxy). In credentials_dir/admin/:
//   ca.pem                   the admin CA certificate (clear; the frontends trust it for client certificates)
//   ca_private_key.pem       its key, vault-encrypted
//   <admin>/cert.pem         the admin's certificate (CN = admin name, clientAuth only)
//   <admin>/key.pem          its private key (PKCS#8 PEM), vault-encrypted
//   index.json               admin -> serial, expiry, digest of cert.pem; and the
//                            serials revoked when admins were removed (no secrets)
// The frontends accept a certificate only when its serial is one of the current
// admins' serials (the allow-list nginx maps to the admin's name), so removing an
// admin, or re-issuing their certificate, revokes the old one on the next run.
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { byCodePoint } from '../core/compare.js';
import { hasAdminEndpoints } from '../config/admins.js';
import { FloatUserError } from '../config/diagnostics.js';
import type { Model } from '../config/load.js';
import { safeJoin } from '../config/safe-path.js';
import { writeFileAtomic } from './atomic.js';
import type { VaultCodec } from './types.js';
import { decryptVaultFile } from './vault.js';
import { loadOrCreateCa } from './pki-store.js';
import { caContext, issueCertificate, newKeyPair, pkcs8Pem } from './x509.js';

export const ADMIN_CA_NAME = 'float admin CA';
const RENEW_BEFORE_DAYS = 30;
const DAY = 86_400_000;

export interface AdminIndexEntry {
  /** The certificate's serial as nginx's $ssl_client_serial prints it (uppercase hex). */
  serial: string;
  notAfter: string;
  /** SHA-256 of cert.pem. */
  cert: string;
  /** Fingerprint of the admin CA certificate that signed it. */
  ca: string;
}

export interface AdminIndex {
  admins: Record<string, AdminIndexEntry>;
  /** Certificates of removed admins (and replaced ones): never accepted again. */
  revoked: { name: string; serial: string; revoked: string }[];
}

export interface AdminCertsResult {
  issued: string[];
  kept: string[];
  /** Admins removed from the configuration whose certificates were revoked in this run. */
  revoked: string[];
}

export function adminPaths(dir: string) {
  const base = join(dir, 'admin');
  return {
    base,
    caCert: join(base, 'ca.pem'),
    caKey: join(base, 'ca_private_key.pem'),
    index: join(base, 'index.json'),
    cert: (name: string) => safeJoin(base, 'admin name', name, 'cert.pem'),
    key: (name: string) => safeJoin(base, 'admin name', name, 'key.pem'),
  };
}

const spkiOf = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function malformed(path: string, why: string): FloatUserError {
  return new FloatUserError(`${path}: malformed (${why}); restore it from git, or remove it and run again: every admin certificate is then re-issued`, 'F2144');
}

export function readAdminIndex(dir: string): AdminIndex {
  const p = adminPaths(dir).index;
  if (!existsSync(p)) return { admins: {}, revoked: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(p, 'utf8'));
  } catch (err) {
    throw malformed(p, (err as Error).message);
  }
  const o = raw as Partial<AdminIndex>;
  if (typeof raw !== 'object' || raw === null || typeof o.admins !== 'object' || o.admins === null || !Array.isArray(o.revoked)) throw malformed(p, 'expected {"admins": {...}, "revoked": [...]}');
  for (const [n, e] of Object.entries(o.admins)) {
    if (typeof e !== 'object' || e === null || !['serial', 'notAfter', 'cert', 'ca'].every((k) => typeof (e as unknown as Record<string, unknown>)[k] === 'string')) throw malformed(p, `entry "${n}"`);
  }
  return raw as AdminIndex;
}

/** The serial as nginx prints $ssl_client_serial: uppercase hex, two digits per byte. */
export function nginxSerial(cert: X509Certificate): string {
  const s = cert.serialNumber.toUpperCase();
  return s.length % 2 ? `0${s}` : s;
}

/** A CA certificate without its key is an error: a new CA would silently invalidate every admin certificate handed out. */
export function checkAdminCaFiles(dir: string): void {
  const p = adminPaths(dir);
  if (existsSync(p.caCert) && !existsSync(p.caKey)) {
    throw new FloatUserError(`${p.caCert} exists but the admin CA private key ${p.caKey} does not: restore it (e.g. from git), or remove ${p.caCert} to create a new admin CA (every admin then needs a new certificate)`, 'F2035');
  }
}

/** Whether an admin's files are as the index recorded, and the certificate is from this CA and not close to expiry. */
function isCurrent(dir: string, name: string, e: AdminIndexEntry | undefined, caFp: string, now: Date): boolean {
  const p = adminPaths(dir);
  if (!e || e.ca !== caFp || !existsSync(p.cert(name)) || !existsSync(p.key(name))) return false;
  if (sha256(readFileSync(p.cert(name))) !== e.cert) return false;
  return new Date(e.notAfter).getTime() - now.getTime() >= RENEW_BEFORE_DAYS * DAY;
}

/**
 * Keeps one client certificate per admin in `names`: issues the missing, changed
 * or expiring ones, and revokes (removes, and lists as revoked) those of admins no
 * longer named. Creates the admin CA when `names` is not empty or `wantCa`.
 */
export function ensureAdminCertificates(dir: string, names: string[], codec: VaultCodec, now: Date, opts: { wantCa?: boolean } = {}): AdminCertsResult {
  const p = adminPaths(dir);
  const result: AdminCertsResult = { issued: [], kept: [], revoked: [] };
  if (names.length === 0 && !opts.wantCa && !existsSync(p.caKey) && !existsSync(p.index)) return result;
  // Kept like the internal CA (same key, renewed a year before it expires), under its own name.
  checkAdminCaFiles(dir);
  const ca = loadOrCreateCa({ cert: p.caCert, key: p.caKey }, codec, now, ADMIN_CA_NAME);
  const caFp = ca.cert.fingerprint256;
  const index = readAdminIndex(dir);
  let changed = false;
  const wanted = [...new Set(names)].sort(byCodePoint);
  for (const name of wanted) {
    const e = index.admins[name];
    if (isCurrent(dir, name, e, caFp, now)) {
      result.kept.push(name);
      continue;
    }
    const keys = newKeyPair();
    const cert = issueCertificate({ id: `admin/${name}`, kind: 'client', commonName: name, dnsNames: [], ipAddresses: [], mode: 'client' }, keys.spki, caContext(ca.keys(), ADMIN_CA_NAME), now);
    writeFileAtomic(p.key(name), codec.encrypt(pkcs8Pem(keys.pkcs8)), 0o600);
    writeFileAtomic(p.cert(name), cert.pem, 0o644);
    if (e) index.revoked.push({ name, serial: e.serial, revoked: now.toISOString() });
    index.admins[name] = { serial: nginxSerial(new X509Certificate(cert.pem)), notAfter: cert.notAfter.toISOString(), cert: sha256(cert.pem), ca: caFp };
    result.issued.push(name);
    changed = true;
  }
  for (const name of Object.keys(index.admins).sort(byCodePoint)) {
    if (wanted.includes(name)) continue;
    index.revoked.push({ name, serial: index.admins[name].serial, revoked: now.toISOString() });
    delete index.admins[name];
    rmSync(join(p.base, name), { recursive: true, force: true });
    result.revoked.push(name);
    changed = true;
  }
  if (changed || !existsSync(p.index)) {
    const admins = Object.fromEntries(Object.entries(index.admins).sort(([a], [b]) => byCodePoint(a, b)));
    writeFileAtomic(p.index, JSON.stringify({ admins, revoked: index.revoked }, null, 1) + '\n', 0o644);
  }
  return result;
}

/**
 * ensureAdminCertificates for a configuration, as float run and float admin-cert
 * both keep them: one certificate per admin, and the admin CA as soon as an
 * endpoint is admin-only (the frontends need its certificate).
 */
export function ensureConfiguredAdminCertificates(model: Model, codec: VaultCodec, now: Date): AdminCertsResult {
  const names = (model.globals.admins ?? []).map((a) => a.name);
  return ensureAdminCertificates(model.config.credentials_dir, names, codec, now, { wantCa: hasAdminEndpoints(model) });
}

/** An admin's certificate and private key (decrypted into memory), for export. */
export function loadAdminCredentials(dir: string, name: string, codec: VaultCodec): { certPem: string; keyPem: string } {
  const p = adminPaths(dir);
  if (!existsSync(p.cert(name)) || !existsSync(p.key(name))) throw new FloatUserError(`no certificate for admin '${name}' in ${p.base}`, 'F2143');
  const certPem = readFileSync(p.cert(name), 'utf8');
  const keyPem = decryptVaultFile(p.key(name), codec).toString('utf8');
  const cert = new X509Certificate(certPem);
  if (!spkiOf(createPublicKey(keyPem)).equals(spkiOf(cert.publicKey))) throw new FloatUserError(`${p.key(name)} is not the private key of ${p.cert(name)}`, 'F2035');
  return { certPem, keyPem };
}
