// The SSH CA: an ed25519 key pair in credentials_dir/ssh/ (public key in the
// clear, private key vault-encrypted, in OpenSSH's key format inside the vault),
// and host certificates for it. Keys are generated and certificates signed in
// process (ssh-cert.ts): the CA's private key is decrypted into memory only,
// never into a file. Certificates are read back in process as well (fields,
// fingerprints and the CA's signature), so no ssh-keygen is needed at all.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FloatUserError } from '../config/diagnostics.js';
import { writeFileAtomic } from './atomic.js';
import { blobFingerprint, checkKeyPair, decodeOpensshPrivateKey, encodeOpensshPrivateKey, generateEd25519, parseCertificate, parsePublicKeyLine, publicKeyLine, signHostCertificate, signUserCertificate, type SshEd25519Key } from './ssh-cert.js';
import type { VaultCodec } from './types.js';
import { decryptVaultFile } from './vault.js';

export function sshCaPaths(dir: string): { publicKey: string; privateKey: string } {
  return { publicKey: join(dir, 'ssh', 'key.pub'), privateKey: join(dir, 'ssh', 'key') };
}

/**
 * A CA public key without its private key is an error: a new CA would make every
 * client's `@cert-authority` line and every host certificate useless.
 */
export function checkSshCaFiles(dir: string): void {
  const p = sshCaPaths(dir);
  if (existsSync(p.publicKey) && !existsSync(p.privateKey)) {
    throw new FloatUserError(
      `${p.publicKey} exists but the SSH CA private key ${p.privateKey} does not: restore it (e.g. from git), or remove ${p.publicKey} to create a new SSH CA (clients' known_hosts must then be updated)`,
      'F2035',
    );
  }
}

/** The CA key, decrypted into memory and checked against itself. */
function loadCaKey(path: string, codec: VaultCodec): SshEd25519Key {
  try {
    const key = decodeOpensshPrivateKey(decryptVaultFile(path, codec).toString('utf8'), path);
    checkKeyPair(key, path);
    return key;
  } catch (err) {
    if (err instanceof FloatUserError) throw err;
    throw new FloatUserError(`SSH CA private key ${(err as Error).message}`, 'F3011'); // the message starts with the path
  }
}

/** The first two fields of a public key line (type and key), without the comment. */
export const keyPart = (line: string) => line.trim().split(/\s+/).slice(0, 2).join(' ');

/**
 * Creates the SSH CA once; returns its public key line. A private key without
 * its public key gets the public key back.
 */
export async function ensureSshCa(dir: string, codec: VaultCodec): Promise<string> {
  const p = sshCaPaths(dir);
  checkSshCaFiles(dir);
  if (existsSync(p.publicKey)) return readFileSync(p.publicKey, 'utf8').trim();
  if (existsSync(p.privateKey)) {
    const key = loadCaKey(p.privateKey, codec);
    const pub = `${keyPart(publicKeyLine(key))} float SSH CA`;
    writeFileAtomic(p.publicKey, pub + '\n', 0o644);
    return pub;
  }
  const key = generateEd25519('float SSH CA');
  writeFileAtomic(p.privateKey, codec.encrypt(Buffer.from(encodeOpensshPrivateKey(key))), 0o600);
  const pub = publicKeyLine(key);
  writeFileAtomic(p.publicKey, pub + '\n', 0o644);
  return pub;
}

/**
 * The CA key, created on first use, decrypted into memory and checked against
 * key.pub: clients and hosts trust key.pub, so a certificate from any other key
 * would be refused by every one of them.
 */
async function signingCa(dir: string, codec: VaultCodec): Promise<SshEd25519Key> {
  const pub = await ensureSshCa(dir, codec);
  const p = sshCaPaths(dir);
  const ca = loadCaKey(p.privateKey, codec);
  if (keyPart(publicKeyLine(ca)) !== keyPart(pub)) {
    throw new FloatUserError(`${p.publicKey} is not the public key of ${p.privateKey}: restore the matching pair, or remove ${p.publicKey} to derive it from the private key`, 'F2035');
  }
  return ca;
}

/** A certificate's validity: from five minutes ago to `seconds` from now. */
function validFor(seconds: number): { validAfter: Date; validBefore: Date } {
  const now = Date.now();
  return { validAfter: new Date(now - 5 * 60_000), validBefore: new Date(now + seconds * 1000) };
}

export interface HostCertOptions {
  identity: string;
  principals: string[];
  validityDays?: number;
}

/** Signs a host public key with the SSH CA; returns the certificate line. */
export async function signHostKey(dir: string, codec: VaultCodec, hostPublicKey: string, opts: HostCertOptions): Promise<string> {
  return (await signHostKeys(dir, codec, [hostPublicKey], opts))[0];
}

/**
 * Signs several public keys of one host (each key sshd loads) with the SSH CA,
 * decrypting the CA key once; returns the certificate lines in the same order.
 * Every certificate gets its own random serial.
 */
export async function signHostKeys(dir: string, codec: VaultCodec, hostPublicKeys: string[], opts: HostCertOptions): Promise<string[]> {
  const principals = [...new Set(opts.principals.map((x) => x.trim()).filter(Boolean))];
  if (principals.length === 0) throw new FloatUserError(`no principals for the SSH host certificate of ${opts.identity}`, 'F2036');
  if (principals.some((x) => x.includes(','))) throw new FloatUserError(`SSH principals cannot contain commas: ${principals.join(' ')}`, 'F2036');
  if (hostPublicKeys.length === 0) return [];
  const ca = await signingCa(dir, codec);
  const validity = validFor((opts.validityDays ?? 365) * 86_400);
  return hostPublicKeys.map((hostPublicKey) => {
    try {
      return signHostCertificate(ca, { hostPublicKey, identity: opts.identity, principals, ...validity });
    } catch (err) {
      throw new FloatUserError(`cannot sign the SSH host key of ${opts.identity}: ${(err as Error).message}`, 'F2036');
    }
  });
}

/**
 * Signs an admin's public key as a user certificate (principals: the admin's name
 * and root), valid from five minutes ago for `validSeconds`. Hosts map principals
 * to accounts (AuthorizedPrincipalsFile, float-base-ssh): root's file lists the
 * current admins by name, so a removed admin's certificate is refused on the next
 * run even before it expires.
 */
export async function signUserKey(dir: string, codec: VaultCodec, publicKey: string, opts: { identity: string; principals: string[]; validSeconds: number }): Promise<string> {
  const ca = await signingCa(dir, codec);
  return signUserCertificate(ca, { publicKey, identity: opts.identity, principals: opts.principals, ...validFor(opts.validSeconds) });
}

export interface CertInfo {
  /** Fingerprint of the certified key (SHA256:...). */
  keyFingerprint: string;
  principals: string[];
  signingCaFingerprint: string;
  validBefore: Date | undefined;
}

/**
 * Reads a host certificate in process: the certified key's fingerprint, the
 * principals, the CA that signed it and its expiry. A certificate whose signature
 * does not verify against the CA key it names is an error.
 */
export function inspectCertificate(cert: string): CertInfo {
  const c = parseCertificate(cert);
  if (!c.signatureValid) throw new Error('SSH certificate: the signature does not verify');
  return { keyFingerprint: blobFingerprint(c.keyBlob), principals: c.principals, signingCaFingerprint: blobFingerprint(c.caBlob), validBefore: c.validBefore };
}

/** A public key's fingerprint as ssh-keygen prints it (SHA256:...). */
export function keyFingerprint(publicKey: string): string {
  return blobFingerprint(parsePublicKeyLine(publicKey).blob);
}

/** The CA key's fingerprint. */
export function caFingerprint(dir: string): string {
  return keyFingerprint(readFileSync(sshCaPaths(dir).publicKey, 'utf8'));
}
