// The SSH CA: an ed25519 key pair in credentials_dir/ssh/ (public key in the
// clear, private key vault-encrypted, in OpenSSH's key format inside the vault),
// and host certificates for it. Keys are generated and certificates signed in
// process (ssh-cert.ts): the CA's private key is decrypted into memory only,
// never into a file. ssh-keygen reads public material only (certificates and
// public keys, for their fingerprints and fields).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FloatUserError } from '../config/diagnostics.js';
import { writeFileAtomic } from './atomic.js';
import { checkKeyPair, decodeOpensshPrivateKey, encodeOpensshPrivateKey, generateEd25519, publicKeyLine, signHostCertificate, type SshEd25519Key } from './ssh-cert.js';
import type { VaultCodec } from './types.js';
import { decryptVaultFile } from './vault.js';

export function sshCaPaths(dir: string): { publicKey: string; privateKey: string } {
  return { publicKey: join(dir, 'ssh', 'key.pub'), privateKey: join(dir, 'ssh', 'key') };
}

/** A private temporary directory for public material handed to ssh-keygen. */
function withTempDir<T>(fn: (d: string) => T): T {
  const d = mkdtempSync(join(tmpdir(), 'float-ssh-'));
  try {
    return fn(d);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

function sshKeygen(args: string[]): string {
  try {
    return execFileSync('ssh-keygen', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new FloatUserError('ssh-keygen not found: install openssh-client (apt-get install openssh-client)', 'F2036');
    throw new FloatUserError(`ssh-keygen failed: ${e.stderr?.trim() || e.message}`, 'F2036');
  }
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
const keyPart = (line: string) => line.trim().split(/\s+/).slice(0, 2).join(' ');

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
  const pub = await ensureSshCa(dir, codec);
  const p = sshCaPaths(dir);
  const ca = loadCaKey(p.privateKey, codec);
  // Clients trust key.pub: a certificate from any other key would be refused by every one of them.
  if (keyPart(publicKeyLine(ca)) !== keyPart(pub)) {
    throw new FloatUserError(`${p.publicKey} is not the public key of ${p.privateKey}: restore the matching pair, or remove ${p.publicKey} to derive it from the private key`, 'F2035');
  }
  const now = Date.now();
  return hostPublicKeys.map((hostPublicKey) => {
    try {
      return signHostCertificate(ca, {
        hostPublicKey,
        identity: opts.identity,
        principals,
        validAfter: new Date(now - 5 * 60_000),
        validBefore: new Date(now + (opts.validityDays ?? 365) * 86_400_000),
      });
    } catch (err) {
      throw new FloatUserError(`cannot sign the SSH host key of ${opts.identity}: ${(err as Error).message}`, 'F2036');
    }
  });
}

export interface CertInfo {
  /** Fingerprint of the certified key (SHA256:...). */
  keyFingerprint: string;
  principals: string[];
  signingCaFingerprint: string;
  validBefore: Date | undefined;
}

/** Reads a host certificate with ssh-keygen -L. */
export function inspectCertificate(cert: string): CertInfo {
  return withTempDir((t) => {
    const f = join(t, 'c-cert.pub');
    writeFileSync(f, cert.trim() + '\n');
    const out = sshKeygen(['-L', '-f', f]);
    const principals = /Principals:\s*\n((?:\s{12,}\S.*\n?)*)/.exec(out)?.[1].split('\n').map((s) => s.trim()).filter(Boolean) ?? [];
    const fp = /Signing CA: \S+ (\S+)/.exec(out)?.[1] ?? '';
    const key = /Public key: \S+ (\S+)/.exec(out)?.[1] ?? '';
    const until = /Valid: from \S+ to (\S+)/.exec(out)?.[1];
    return { keyFingerprint: key, principals, signingCaFingerprint: fp, validBefore: until ? new Date(until) : undefined };
  });
}

/** A public key's fingerprint as ssh-keygen prints it (SHA256:...). */
export function keyFingerprint(publicKey: string): string {
  return withTempDir((t) => {
    const f = join(t, 'k.pub');
    writeFileSync(f, publicKey.trim() + '\n');
    return sshKeygen(['-l', '-f', f]).split(' ')[1];
  });
}

/** The CA key's fingerprint. */
export function caFingerprint(dir: string): string {
  return keyFingerprint(readFileSync(sshCaPaths(dir).publicKey, 'utf8'));
}
