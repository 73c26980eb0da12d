// WireGuard keys of the private network (net_overlays): one X25519 key pair per
// member host, generated in process with node:crypto and kept forever in
// credentials_dir/wireguard/: `<host>.yml` holds the private key as an Ansible
// variable, vault-encrypted (the inventory carries it as it is, as
// host_vars/<host>/overlay_key.yml); `<host>.pub` holds the public key in the clear.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { FloatUserError } from '../config/diagnostics.js';
import type { Model } from '../config/load.js';
import { safeJoin } from '../config/safe-path.js';
import { writeFileAtomic } from './atomic.js';
import type { VaultCodec } from './types.js';
import { decryptVaultFile } from './vault.js';

/** The Ansible variable the private key is in (read by the float-base-overlay role). */
export const PRIVATE_KEY_VAR = 'float_overlay_private_key';

export function wireguardDir(dir: string): string {
  return join(dir, 'wireguard');
}

export function wireguardKeyPaths(dir: string, host: string): { privateKey: string; publicKey: string } {
  return {
    privateKey: safeJoin(wireguardDir(dir), 'host name', `${host}.yml`),
    publicKey: safeJoin(wireguardDir(dir), 'host name', `${host}.pub`),
  };
}

/** The hosts with an address on some overlay: those that need a key pair. */
export function overlayMembers(model: Pick<Model, 'hosts'>): string[] {
  return model.hosts.filter((h) => Object.keys(h.overlays).length > 0).map((h) => h.name);
}

// PKCS#8 DER of an X25519 private key is this prefix and the 32 key bytes (RFC 8410).
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export interface WireguardKeyPair {
  privateKey: string;
  publicKey: string;
}

/** A new key pair, both keys in WireGuard's encoding (base64 of 32 bytes). */
export function generateWireguardKeyPair(): WireguardKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const raw = (jwk: string) => Buffer.from(jwk, 'base64url').toString('base64');
  return { privateKey: raw(privateKey.export({ format: 'jwk' }).d!), publicKey: raw(publicKey.export({ format: 'jwk' }).x!) };
}

/** A key in WireGuard's encoding: the canonical base64 of 32 bytes. */
function isWireguardKey(s: string): boolean {
  const b = Buffer.from(s, 'base64');
  return b.length === 32 && b.toString('base64') === s;
}

/** The public key of a private key (both base64), as `wg pubkey` computes it. */
export function wireguardPublicKey(privateKey: string): string {
  if (!isWireguardKey(privateKey)) throw new Error('not a WireGuard key (base64 of 32 bytes)');
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, Buffer.from(privateKey, 'base64')]), format: 'der', type: 'pkcs8' });
  return Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url').toString('base64');
}

/** A short, printable fingerprint of a public key: SHA256 of its 32 bytes, as ssh-keygen prints them. */
export function wireguardFingerprint(publicKey: string): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(publicKey, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

function readPublicKey(path: string): string {
  const key = readFileSync(path, 'utf8').trim();
  if (!isWireguardKey(key)) throw new FloatUserError(`${path}: not a WireGuard public key (base64 of 32 bytes); restore it, or remove it to derive it again from the private key`, 'F2103');
  return key;
}

function readPrivateKey(path: string, codec: VaultCodec): string {
  let data: unknown;
  try {
    data = parse(decryptVaultFile(path, codec).toString('utf8'));
  } catch (err) {
    if (err instanceof FloatUserError) throw err;
    throw new FloatUserError(`${path}: cannot be read as YAML`, 'F2103');
  }
  const key = (data as Record<string, unknown> | null)?.[PRIVATE_KEY_VAR];
  if (typeof key !== 'string' || !isWireguardKey(key)) throw new FloatUserError(`${path}: expected '${PRIVATE_KEY_VAR}: <base64 of 32 bytes>'`, 'F2103');
  return key;
}

export interface WireguardReport {
  /** Hosts that got a new key pair. */
  generated: string[];
  kept: number;
  /** Hosts with keys in credentials_dir that are on no overlay any more: kept, not published. */
  stale: string[];
}

/**
 * Gives every overlay member a key pair, keeping those there. A public key without
 * its private key is refused (a new key would be a silent re-keying of the host);
 * a private key without its public key gets it back.
 */
export function ensureWireguardKeys(dir: string, members: string[], codec: VaultCodec): WireguardReport {
  const generated: string[] = [];
  let kept = 0;
  for (const host of members) {
    const p = wireguardKeyPaths(dir, host);
    const hasPriv = existsSync(p.privateKey);
    const hasPub = existsSync(p.publicKey);
    if (hasPub && !hasPriv) {
      throw new FloatUserError(
        `${p.publicKey} exists but the WireGuard private key ${p.privateKey} does not: restore it (e.g. from git), or remove ${p.publicKey} to give host '${host}' a new key pair`,
        'F2103',
      );
    }
    if (hasPriv && hasPub) {
      readPublicKey(p.publicKey);
      kept++;
      continue;
    }
    if (hasPriv) {
      writeFileAtomic(p.publicKey, wireguardPublicKey(readPrivateKey(p.privateKey, codec)) + '\n', 0o644);
      kept++;
      continue;
    }
    const pair = generateWireguardKeyPair();
    writeFileAtomic(p.privateKey, codec.encrypt(`${PRIVATE_KEY_VAR}: ${pair.privateKey}\n`), 0o600);
    writeFileAtomic(p.publicKey, pair.publicKey + '\n', 0o644);
    generated.push(host);
  }
  const wanted = new Set(members);
  const wgDir = wireguardDir(dir);
  const stale = existsSync(wgDir)
    ? [...new Set(readdirSync(wgDir).filter((f) => /\.(yml|pub)$/.test(f)).map((f) => f.replace(/\.(yml|pub)$/, '')))].filter((h) => !wanted.has(h)).sort()
    : [];
  return { generated, kept, stale };
}

/** The members' public keys (host -> key), for the inventory; members without a key yet are left out. */
export function readWireguardPublicKeys(dir: string, members: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const host of [...members].sort()) {
    const p = wireguardKeyPaths(dir, host).publicKey;
    if (existsSync(p)) out[host] = readPublicKey(p);
  }
  return out;
}
