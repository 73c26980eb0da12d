// The internal PKI in credentials_dir/x509/:
//   ca.pem                         CA certificate (clear)
//   ca_private_key.pem             CA private key (vault-encrypted)
//   <host>/<cred>/<kind>/cert.pem  certificates (clear)
//   <host>/private_keys.yml        the host's private keys (vault-encrypted), as an Ansible vars
//                                  file: {float_host_private_keys: {"<cred>/<kind>": PEM}}
//   index.json                     what each certificate was issued for (clear, no secrets)
// One vault file per host, not per key: each vault file costs a PBKDF2 run
// (10,000 iterations, ~25 ms here), which per key would dominate issuance.
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { toYaml } from '../inventory/emit.js';
import { writeFileAtomic } from './atomic.js';
import type { CertRequest, VaultCodec } from './types.js';
import { caContext, createCaCertificate, issueCertificate, newKeyPair, type CaContext, type KeyPair } from './x509.js';

const RENEW_BEFORE_DAYS = 30;

interface HostKeysFile {
  float_host_private_keys: Record<string, string>;
}

interface IndexEntry {
  /** Hash of what the certificate was issued for (names, addresses, mode). */
  request: string;
  notAfter: string;
  /** Fingerprint of the CA that signed it. */
  ca: string;
}

export interface PkiResult {
  issued: string[];
  kept: string[];
  /** Certificates on disk that nothing requests any more: kept, and reported. */
  stale: string[];
}

export function x509Dir(dir: string): string {
  return join(dir, 'x509');
}

/** Where a host's vault-encrypted private keys live. */
export function hostKeysPath(dir: string, host: string): string {
  return join(x509Dir(dir), host, 'private_keys.yml');
}

function requestHash(r: CertRequest): string {
  return createHash('sha256')
    .update(JSON.stringify([r.kind, r.commonName, r.dnsNames, r.ipAddresses, r.mode]))
    .digest('hex');
}

function hostOf(id: string): string {
  return id.split('/')[0];
}

/** Loads the CA, creating it on first use. */
function loadOrCreateCa(dir: string, codec: VaultCodec, now: Date): { cert: X509Certificate; keys: () => KeyPair } {
  const certPath = join(x509Dir(dir), 'ca.pem');
  const keyPath = join(x509Dir(dir), 'ca_private_key.pem');
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    const keys = newKeyPair();
    const pem = createCaCertificate(keys, now);
    writeFileAtomic(keyPath, codec.encrypt(keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string), 0o600);
    writeFileAtomic(certPath, pem, 0o644);
    return { cert: new X509Certificate(pem), keys: () => keys };
  }
  const cert = new X509Certificate(readFileSync(certPath));
  let cached: KeyPair | undefined;
  // Decrypting the CA key costs a PBKDF2 run: only when something must be issued.
  const keys = () => {
    if (!cached) {
      const privateKey = createPrivateKey(codec.decrypt(readFileSync(keyPath, 'utf8')));
      cached = { privateKey, publicKey: createPublicKey(privateKey) };
    }
    return cached;
  };
  return { cert, keys };
}

function readIndex(dir: string): Record<string, IndexEntry> {
  const p = join(x509Dir(dir), 'index.json');
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as Record<string, IndexEntry>) : {};
}

function isCurrent(dir: string, r: CertRequest, entry: IndexEntry | undefined, caFp: string, now: Date, hasKey: boolean): boolean {
  if (!entry || !hasKey) return false;
  if (entry.request !== requestHash(r) || entry.ca !== caFp) return false;
  if (new Date(entry.notAfter).getTime() - now.getTime() < RENEW_BEFORE_DAYS * 86_400_000) return false;
  return existsSync(join(x509Dir(dir), r.id, 'cert.pem'));
}

/**
 * Issues every requested certificate that is missing, changed, close to expiry
 * or signed by another CA; touches nothing else.
 */
export async function ensureCertificates(dir: string, requests: CertRequest[], codec: VaultCodec, now: Date): Promise<PkiResult> {
  const ca = loadOrCreateCa(dir, codec, now);
  const caFp = ca.cert.fingerprint256;
  const index = readIndex(dir);
  const byHost = new Map<string, CertRequest[]>();
  for (const r of requests) {
    const h = hostOf(r.id);
    if (!byHost.has(h)) byHost.set(h, []);
    byHost.get(h)!.push(r);
  }
  const issued: string[] = [];
  const kept: string[] = [];
  let ctx: CaContext | undefined;
  for (const [host, reqs] of [...byHost].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const keysPath = hostKeysPath(dir, host);
    // The index says which keys the host's vault file holds; it is opened only to change it.
    const haveKeys = existsSync(keysPath);
    const todo = reqs.filter((r) => !isCurrent(dir, r, index[r.id], caFp, now, haveKeys));
    kept.push(...reqs.filter((r) => !todo.includes(r)).map((r) => r.id));
    if (todo.length === 0) continue;
    ctx ??= caContext(ca.keys());
    const stored = existsSync(keysPath) ? (parse(codec.decrypt(readFileSync(keysPath, 'utf8')).toString('utf8')) as HostKeysFile | null) : null;
    const hostKeys: Record<string, string> = stored?.float_host_private_keys ?? {};
    for (const r of todo) {
      const keys = newKeyPair();
      const pem = issueCertificate(r, keys.publicKey, ctx, now);
      writeFileAtomic(join(x509Dir(dir), r.id, 'cert.pem'), pem, 0o644);
      hostKeys[r.id.slice(host.length + 1)] = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      index[r.id] = { request: requestHash(r), notAfter: new X509Certificate(pem).validTo, ca: caFp };
      issued.push(r.id);
    }
    writeFileAtomic(keysPath, codec.encrypt(toYaml({ float_host_private_keys: hostKeys } satisfies HostKeysFile)), 0o600);
  }
  const wanted = new Set(requests.map((r) => r.id));
  const stale = Object.keys(index).filter((id) => !wanted.has(id)).sort();
  if (issued.length > 0) writeFileAtomic(join(x509Dir(dir), 'index.json'), JSON.stringify(sortKeys(index), null, 1) + '\n', 0o644);
  return { issued, kept, stale };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}
