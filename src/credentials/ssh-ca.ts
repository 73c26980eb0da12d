// The SSH CA: an ed25519 key pair in credentials_dir/ssh/ (public key in the
// clear, private key vault-encrypted), and host certificates signed with the
// real ssh-keygen. The private key is decrypted only into a private temporary
// directory for the duration of one signing, and removed right after.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FloatUserError } from '../config/diagnostics.js';
import { writeFileAtomic } from './atomic.js';
import type { VaultCodec } from './types.js';
import { decryptVaultFile } from './vault.js';

export function sshCaPaths(dir: string): { publicKey: string; privateKey: string } {
  return { publicKey: join(dir, 'ssh', 'key.pub'), privateKey: join(dir, 'ssh', 'key') };
}

function withTempDir<T>(fn: (d: string) => T): T {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const d = mkdtempSync(join(base, 'float-ssh-'));
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
    if (e.code === 'ENOENT') throw new FloatUserError('ssh-keygen not found: install openssh-client (apt-get install openssh-client)', 'F3001');
    throw new FloatUserError(`ssh-keygen failed: ${e.stderr?.trim() || e.message}`, 'F3001');
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
      'F3001',
    );
  }
}

/**
 * Creates the SSH CA once; returns its public key line. A private key without
 * its public key gets the public key back (ssh-keygen -y).
 */
export async function ensureSshCa(dir: string, codec: VaultCodec): Promise<string> {
  const p = sshCaPaths(dir);
  checkSshCaFiles(dir);
  if (existsSync(p.publicKey)) return readFileSync(p.publicKey, 'utf8').trim();
  if (existsSync(p.privateKey)) {
    return withTempDir((t) => {
      const key = join(t, 'ca');
      writeFileSync(key, decryptVaultFile(p.privateKey, codec), { mode: 0o600 });
      const pub = `${sshKeygen(['-y', '-f', key]).trim().split(/\s+/).slice(0, 2).join(' ')} float SSH CA\n`;
      writeFileAtomic(p.publicKey, pub, 0o644);
      return pub.trim();
    });
  }
  return withTempDir((t) => {
    const key = join(t, 'ca');
    sshKeygen(['-q', '-t', 'ed25519', '-N', '', '-C', 'float SSH CA', '-f', key]);
    writeFileAtomic(p.privateKey, codec.encrypt(readFileSync(key)), 0o600);
    const pub = readFileSync(`${key}.pub`, 'utf8');
    writeFileAtomic(p.publicKey, pub, 0o644);
    return pub.trim();
  });
}

export interface HostCertOptions {
  identity: string;
  principals: string[];
  validityDays?: number;
}

/** Signs a host public key with the SSH CA; returns the certificate line. */
export async function signHostKey(dir: string, codec: VaultCodec, hostPublicKey: string, opts: HostCertOptions): Promise<string> {
  const principals = [...new Set(opts.principals.map((x) => x.trim()).filter(Boolean))];
  if (principals.length === 0) throw new FloatUserError(`no principals for the SSH host certificate of ${opts.identity}`, 'F3001');
  if (principals.some((x) => x.includes(','))) throw new FloatUserError(`SSH principals cannot contain commas: ${principals.join(' ')}`, 'F3001');
  await ensureSshCa(dir, codec);
  const p = sshCaPaths(dir);
  return withTempDir((t) => {
    const ca = join(t, 'ca');
    writeFileSync(ca, decryptVaultFile(p.privateKey, codec), { mode: 0o600 });
    const host = join(t, 'host.pub');
    writeFileSync(host, hostPublicKey.trim() + '\n');
    sshKeygen(['-q', '-s', ca, '-h', '-I', opts.identity, '-n', principals.join(','), '-V', `-5m:+${opts.validityDays ?? 365}d`, host]);
    return readFileSync(join(t, 'host-cert.pub'), 'utf8').trim();
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
