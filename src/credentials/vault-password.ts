// Finds the Ansible Vault password: the file named by ANSIBLE_VAULT_PASSWORD_FILE,
// else config.yml's vault_password_file. Like Ansible, an executable file is run
// and its standard output is the password.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { FloatUserError } from '../config/diagnostics.js';

const HOW =
  'set ANSIBLE_VAULT_PASSWORD_FILE to a file holding the vault password (or to an executable that prints it), or set vault_password_file in config.yml';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export async function loadVaultPassword(opts: { env?: NodeJS.ProcessEnv; fallbackFile?: string } = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const file = env.ANSIBLE_VAULT_PASSWORD_FILE ? resolve(env.ANSIBLE_VAULT_PASSWORD_FILE) : opts.fallbackFile;
  if (!file) throw new FloatUserError(`no vault password: ${HOW}`, 'F3001');
  let raw: string;
  try {
    raw = isExecutable(file) ? execFileSync(file, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }) : readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { status?: number };
    const why = e.code === 'ENOENT' ? 'no such file' : e.status !== undefined ? `it exited with status ${e.status}` : e.message;
    throw new FloatUserError(`cannot read the vault password from ${file}: ${why}; ${HOW}`, 'F3001');
  }
  const password = raw.replace(/\s+$/, '');
  if (!password) throw new FloatUserError(`the vault password file ${file} is empty; ${HOW}`, 'F3001');
  return password;
}
