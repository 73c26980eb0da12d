// The SSH key of a local test environment: an ed25519 pair without passphrase,
// generated once with ssh-keygen and kept in the environment's directory. It is a
// throw-away key that only opens the test hosts booted on this machine.
import { chmodSync, existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { requireTools, run } from './sys.js';

export interface SshKey {
  privateKeyPath: string;
  publicKeyPath: string;
  publicKey: string;
}

/** Returns the key pair at path, generating it first when missing. */
export async function ensureSshKey(path: string, comment = 'float-test-env'): Promise<SshKey> {
  const pub = `${path}.pub`;
  if (!existsSync(path) || !existsSync(pub)) {
    requireTools(['ssh-keygen']);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    for (const p of [path, pub]) if (existsSync(p)) unlinkSync(p);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  }
  chmodSync(path, 0o600); // ssh refuses keys others can read
  return { privateKeyPath: path, publicKeyPath: pub, publicKey: readFileSync(pub, 'utf8').trim() };
}

/** The ssh options float env uses for its test hosts (their host keys are new at every boot). */
export function sshOptions(keyPath: string): string[] {
  return [
    '-i', keyPath,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR',
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=5',
  ];
}
