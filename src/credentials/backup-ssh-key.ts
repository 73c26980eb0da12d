// The backup jobs' SSH key, for sftp repositories: an ed25519 key pair in
// credentials_dir/backup/, the private key inside a vault-encrypted YAML file the
// inventory carries as it is (group_vars/all/backup_ssh_key.yml, variable
// float_backup_ssh_private_key), the public key in the clear (ssh_key.pub: float
// authorizes it on a float host serving the repository; authorize it yourself on
// any other sftp server).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writeFileAtomic } from './atomic.js';
import { encodeOpensshPrivateKey, generateEd25519, publicKeyLine } from './ssh-cert.js';
import type { VaultCodec } from './types.js';

export function backupSshKeyPaths(dir: string): { privateKey: string; publicKey: string } {
  return { privateKey: join(dir, 'backup', 'ssh_key.yml'), publicKey: join(dir, 'backup', 'ssh_key.pub') };
}

/** Does the repository need the key (restic's sftp backend)? */
export function needsBackupSshKey(uri: unknown): boolean {
  return typeof uri === 'string' && uri.startsWith('sftp:');
}

/** Creates the key pair once (both files, or neither is replaced); returns whether it was created. */
export function ensureBackupSshKey(dir: string, codec: VaultCodec): boolean {
  const p = backupSshKeyPaths(dir);
  if (existsSync(p.privateKey) && existsSync(p.publicKey)) return false;
  mkdirSync(join(dir, 'backup'), { recursive: true, mode: 0o700 });
  const key = generateEd25519('float backup');
  const yaml = stringify({ float_backup_ssh_private_key: encodeOpensshPrivateKey(key) });
  writeFileAtomic(p.privateKey, codec.encrypt(Buffer.from(yaml)), 0o600);
  writeFileAtomic(p.publicKey, publicKeyLine(key) + '\n', 0o644);
  return true;
}

/** The encrypted file, as the inventory's group_vars/all carries it (undefined when absent). */
export function backupSshKeyInventoryFile(dir: string): string | undefined {
  const p = backupSshKeyPaths(dir).privateKey;
  return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
}
