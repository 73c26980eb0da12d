// The internal PKI in credentials_dir/x509/:
//   ca.pem                         CA certificate (clear)
//   ca_private_key.pem             CA private key (vault-encrypted)
//   <host>/<cred>/<kind>/cert.pem  certificates (clear)
//   <host>/private_keys.yml        the host's private keys (vault-encrypted), as an Ansible vars
//                                  file: {float_host_private_keys: {"<cred>/<kind>": PEM}}
//   index.json                     what each certificate was issued for, and digests of the
//                                  files it describes (clear, no secrets)
// One vault file per host, not per key: each vault file costs a PBKDF2 run
// (10,000 iterations), which per key would dominate issuance.
//
// A no-change run decrypts nothing: a certificate is current when the index says
// it was issued for the same request by the same CA, is more than 30 days from
// expiry, and cert.pem and the host's private_keys.yml are byte for byte what the
// index recorded. When a file differs from the index (restored from git, edited,
// lost), the host's keys are decrypted and each certificate is checked against
// its key; whatever does not match is re-issued.
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { byCodePoint } from '../core/compare.js';
import { FloatUserError } from '../config/diagnostics.js';
import { toYaml } from '../inventory/emit.js';
import { writeFileAtomic } from './atomic.js';
import type { CertRequest, VaultCodec } from './types.js';
import { decryptVaultFile } from './vault.js';
import { caContext, createCaCertificate, issueCertificate, newKeyPair, pkcs8Pem, signingKey, type CaContext, type SigningKey } from './x509.js';
import { safeJoin } from '../config/safe-path.js';

const RENEW_BEFORE_DAYS = 30;
/**
 * The CA certificate is renewed this long before it expires: a new certificate
 * for the same key and name, so every certificate it signed stays valid and
 * nothing is re-issued; hosts only receive the new ca.pem.
 */
const CA_RENEW_BEFORE_DAYS = 365;

interface HostKeysFile {
  float_host_private_keys: Record<string, string>;
}

interface IndexEntry {
  /** Hash of what the certificate was issued for (names, addresses, mode). */
  request: string;
  notAfter: string;
  /** Fingerprint of the CA that signed it. */
  ca: string;
  /** SHA-256 of cert.pem (absent in indexes written before it was recorded). */
  cert?: string;
}

interface Index {
  certs: Record<string, IndexEntry>;
  /** host -> SHA-256 of its private_keys.yml, as last written or verified. */
  keyFiles: Record<string, string>;
}

export interface PkiResult {
  issued: string[];
  kept: string[];
  /** Certificates on disk that nothing requests any more: kept, and reported. */
  stale: string[];
  /** Set when the CA certificate was renewed (same key) in this run: its new expiry. */
  caRenewedUntil?: Date;
}

function x509Dir(dir: string): string {
  return join(dir, 'x509');
}

export function caPaths(dir: string): { cert: string; key: string } {
  return { cert: join(x509Dir(dir), 'ca.pem'), key: join(x509Dir(dir), 'ca_private_key.pem') };
}

/** Where a host's vault-encrypted private keys live. */
export function hostKeysPath(dir: string, host: string): string {
  return safeJoin(x509Dir(dir), 'host name', host, 'private_keys.yml');
}

function requestHash(r: CertRequest): string {
  return createHash('sha256')
    .update(JSON.stringify([r.kind, r.commonName, r.dnsNames, r.ipAddresses, r.mode]))
    .digest('hex');
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });

function hostOf(id: string): string {
  return id.split('/')[0];
}

/**
 * Checks the CA files before anything is written: a CA certificate without its
 * private key is an error (creating a new CA would silently invalidate every
 * certificate deployed).
 */
export function checkCaFiles(dir: string): void {
  const p = caPaths(dir);
  if (existsSync(p.cert) && !existsSync(p.key)) {
    throw new FloatUserError(
      `${p.cert} exists but the CA private key ${p.key} does not: restore it (e.g. from git), or remove ${p.cert} to create a new CA (every certificate will be re-issued)`,
      'F2035',
    );
  }
}

/** The CA's keys, checked against its certificate when there is one. */
function loadCaKeys(p: { key: string; cert: string }, codec: VaultCodec, cert?: X509Certificate): SigningKey {
  const keys = signingKey(decryptVaultFile(p.key, codec).toString('utf8'));
  if (cert && !keys.spki.equals(spki(cert.publicKey))) throw new FloatUserError(`${p.key} is not the private key of ${p.cert}`, 'F2035');
  return keys;
}

/**
 * Loads the CA whose files are `p`, creating it on first use; renews its
 * certificate (same key and name) a year before it expires. A CA private key
 * without its certificate (a crash between the two writes, or ca.pem removed)
 * gets a new certificate for the same key. The internal CA and the admin CA
 * (admin-ca.ts, its own `commonName`) are both kept this way; their callers
 * check the files first (checkCaFiles, checkAdminCaFiles).
 */
export function loadOrCreateCa(p: { cert: string; key: string }, codec: VaultCodec, now: Date, commonName?: string): { cert: X509Certificate; keys: () => SigningKey; renewedFrom?: string } {
  if (!existsSync(p.key)) {
    const generated = newKeyPair();
    writeFileAtomic(p.key, codec.encrypt(pkcs8Pem(generated.pkcs8)), 0o600);
    const keys = signingKey(generated.pkcs8);
    const pem = createCaCertificate(keys, now, commonName);
    writeFileAtomic(p.cert, pem, 0o644);
    return { cert: new X509Certificate(pem), keys: () => keys };
  }
  if (!existsSync(p.cert)) {
    const keys = loadCaKeys(p, codec);
    const pem = createCaCertificate(keys, now, commonName);
    writeFileAtomic(p.cert, pem, 0o644);
    return { cert: new X509Certificate(pem), keys: () => keys };
  }
  const cert = new X509Certificate(readFileSync(p.cert));
  if (new Date(cert.validTo).getTime() - now.getTime() < CA_RENEW_BEFORE_DAYS * 86_400_000) {
    const keys = loadCaKeys(p, codec, cert);
    const pem = createCaCertificate(keys, now, commonName);
    writeFileAtomic(p.cert, pem, 0o644);
    return { cert: new X509Certificate(pem), keys: () => keys, renewedFrom: cert.fingerprint256 };
  }
  let cached: SigningKey | undefined;
  // Decrypting the CA key costs a PBKDF2 run: only when something must be issued.
  const keys = () => {
    cached ??= loadCaKeys(p, codec, cert);
    return cached;
  };
  return { cert, keys };
}

function readIndex(dir: string): Index {
  const p = join(x509Dir(dir), 'index.json');
  if (!existsSync(p)) return { certs: {}, keyFiles: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(p, 'utf8'));
  } catch (err) {
    throw malformedIndex(p, (err as Error).message);
  }
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isMap(raw)) throw malformedIndex(p, 'expected a JSON object');
  // The first format was the certificate map alone.
  const certs = 'certs' in raw ? (raw.certs ?? {}) : raw;
  const keyFiles = 'certs' in raw ? (raw.keyFiles ?? {}) : {};
  if (!isMap(certs)) throw malformedIndex(p, '"certs" must be an object');
  if (!isMap(keyFiles) || Object.values(keyFiles).some((v) => typeof v !== 'string')) throw malformedIndex(p, '"keyFiles" must map hosts to digests');
  for (const [id, e] of Object.entries(certs)) {
    if (!isMap(e) || typeof e.request !== 'string' || typeof e.notAfter !== 'string' || typeof e.ca !== 'string' || (e.cert !== undefined && typeof e.cert !== 'string')) {
      throw malformedIndex(p, `entry "${id}" must have request, notAfter and ca (strings)`);
    }
  }
  return { certs: certs as Record<string, IndexEntry>, keyFiles: keyFiles as Record<string, string> };
}

/** index.json only caches what the files say: removing it makes the next run check every certificate. */
function malformedIndex(p: string, why: string): FloatUserError {
  return new FloatUserError(`${p}: malformed (${why}); remove it and run again: every certificate is then checked against its key`, 'F3011');
}

/** A host's decrypted private_keys.yml: {float_host_private_keys: {"<cred>/<kind>": PEM}}. */
function parseHostKeys(path: string, text: string): Record<string, string> {
  let stored: unknown;
  try {
    stored = parse(text);
  } catch (err) {
    // The position only: the text is private keys.
    const pos = (err as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    throw new FloatUserError(`${path}${pos ? `:${pos.line}:${pos.col}` : ''}: not valid YAML once decrypted`, 'F3011');
  }
  if (stored === null || stored === undefined) return {};
  const keys = (stored as Partial<HostKeysFile>).float_host_private_keys;
  const ok =
    typeof stored === 'object' &&
    !Array.isArray(stored) &&
    (keys === undefined || (typeof keys === 'object' && keys !== null && !Array.isArray(keys) && Object.values(keys).every((v) => typeof v === 'string')));
  if (!ok) throw new FloatUserError(`${path}: expected float_host_private_keys, a mapping of "<credential>/<kind>" to PEM keys`, 'F3011');
  return keys ?? {};
}

function certPath(dir: string, id: string): string {
  return safeJoin(x509Dir(dir), 'certificate', ...id.split('/'), 'cert.pem');
}

/** What the index alone says about a certificate: current, or to be issued. */
function indexSaysCurrent(r: CertRequest, entry: IndexEntry | undefined, caFp: string, now: Date): boolean {
  if (!entry) return false;
  if (entry.request !== requestHash(r) || entry.ca !== caFp) return false;
  return new Date(entry.notAfter).getTime() - now.getTime() >= RENEW_BEFORE_DAYS * 86_400_000;
}

/**
 * Issues every requested certificate that is missing, changed, close to expiry,
 * signed by another CA or without its private key; touches nothing else.
 */
export async function ensureCertificates(dir: string, requests: CertRequest[], codec: VaultCodec, now: Date): Promise<PkiResult> {
  checkCaFiles(dir);
  const ca = loadOrCreateCa(caPaths(dir), codec, now);
  const caFp = ca.cert.fingerprint256;
  const index = readIndex(dir);
  let indexChanged = false;
  if (ca.renewedFrom) {
    // Same key and name: what the old certificate signed verifies against the new one.
    for (const [id, e] of Object.entries(index.certs)) if (e.ca === ca.renewedFrom) index.certs[id] = { ...e, ca: caFp };
    indexChanged = true;
  }
  const byHost = new Map<string, CertRequest[]>();
  for (const r of requests) {
    const h = hostOf(r.id);
    if (!byHost.has(h)) byHost.set(h, []);
    byHost.get(h)!.push(r);
  }
  const issued: string[] = [];
  const kept: string[] = [];
  let ctx: CaContext | undefined;
  for (const [host, reqs] of [...byHost].sort(([a], [b]) => byCodePoint(a, b))) {
    const keysPath = hostKeysPath(dir, host);
    const keysText = existsSync(keysPath) ? readFileSync(keysPath, 'utf8') : undefined;
    // Certificates the index calls current, with the cert.pem it recorded.
    const current = new Map<string, string>();
    let filesAsRecorded = keysText !== undefined && index.keyFiles[host] === sha256(keysText);
    for (const r of reqs) {
      const entry = index.certs[r.id];
      if (!indexSaysCurrent(r, entry, caFp, now) || !existsSync(certPath(dir, r.id))) continue;
      const pem = readFileSync(certPath(dir, r.id), 'utf8');
      if (entry!.cert !== sha256(pem)) filesAsRecorded = false;
      current.set(r.id, pem);
    }
    if (filesAsRecorded && current.size === reqs.length) {
      kept.push(...reqs.map((r) => r.id));
      continue;
    }
    // Something to issue, or files to check: open the host's keys.
    let hostKeys: Record<string, string> = {};
    if (keysText !== undefined) {
      hostKeys = parseHostKeys(keysPath, decryptVaultFile(keysPath, codec).toString('utf8'));
    }
    const todo: CertRequest[] = [];
    for (const r of reqs) {
      const pem = current.get(r.id);
      const key = hostKeys[r.id.slice(host.length + 1)];
      if (pem !== undefined && key !== undefined && keyMatches(key, pem, ca.cert)) {
        kept.push(r.id);
        if (index.certs[r.id].cert !== sha256(pem)) {
          index.certs[r.id] = { ...index.certs[r.id], cert: sha256(pem) };
          indexChanged = true;
        }
      } else todo.push(r);
    }
    for (const r of todo) {
      ctx ??= caContext(ca.keys());
      const keys = newKeyPair();
      const cert = issueCertificate(r, keys.spki, ctx, now);
      // Not flushed one by one (2,000 fsyncs were most of a first issuance): a cert.pem lost
      // in a crash no longer matches the digest in the index, and is re-issued next run.
      writeFileAtomic(certPath(dir, r.id), cert.pem, { mode: 0o644, durable: false });
      hostKeys[r.id.slice(host.length + 1)] = pkcs8Pem(keys.pkcs8);
      index.certs[r.id] = { request: requestHash(r), notAfter: cert.notAfter.toISOString(), ca: caFp, cert: sha256(cert.pem) };
      issued.push(r.id);
    }
    let finalText = keysText;
    if (todo.length > 0) {
      finalText = codec.encrypt(toYaml({ float_host_private_keys: hostKeys } satisfies HostKeysFile));
      writeFileAtomic(keysPath, finalText, 0o600);
    }
    if (finalText !== undefined && index.keyFiles[host] !== sha256(finalText)) {
      index.keyFiles[host] = sha256(finalText);
      indexChanged = true;
    }
  }
  const wanted = new Set(requests.map((r) => r.id));
  const stale = Object.keys(index.certs)
    .filter((id) => !wanted.has(id))
    .sort();
  if (issued.length > 0 || indexChanged) {
    const out: Index = { certs: sortKeys(index.certs), keyFiles: sortKeys(index.keyFiles) };
    writeFileAtomic(join(x509Dir(dir), 'index.json'), JSON.stringify(out, null, 1) + '\n', 0o644);
  }
  return { issued, kept, stale, ...(ca.renewedFrom ? { caRenewedUntil: new Date(ca.cert.validTo) } : {}) };
}

/** Whether a stored key is the key of a certificate, and the certificate was signed by this CA. */
function keyMatches(keyPem: string, certPem: string, caCert: X509Certificate): boolean {
  try {
    const cert = new X509Certificate(certPem);
    return spki(createPublicKey(keyPem)).equals(spki(cert.publicKey)) && cert.verify(caCert.publicKey);
  } catch {
    return false;
  }
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => byCodePoint(a, b)));
}
