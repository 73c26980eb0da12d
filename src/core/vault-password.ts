// Finds the Ansible Vault password: the file named by ANSIBLE_VAULT_PASSWORD_FILE,
// else config.yml's vault_password_file. Read exactly as Ansible reads it
// (ansible/parsing/vault get_file_vault_secret), so that ansible-playbook and
// float derive the same password from the same file:
// - a file with any execute bit set is run (no arguments, stdin and stderr
//   inherited so it can prompt) and its standard output, with CR/LF stripped
//   from both ends, is the password;
// - otherwise the file's content, stripped of whitespace at both ends, is.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { FloatUserError } from '../config/diagnostics.js';

const HOW =
  'set ANSIBLE_VAULT_PASSWORD_FILE to a file holding the vault password (or to an executable that prints it), or set vault_password_file in config.yml';

/** Ansible's is_executable: any of the user/group/other execute bits. */
function isExecutable(path: string): boolean {
  const st = statSync(path);
  return st.isFile() && (st.mode & 0o111) !== 0;
}

export async function loadVaultPassword(opts: { env?: NodeJS.ProcessEnv; fallbackFile?: string } = {}): Promise<string> {
  return loadVaultPasswordSync(opts);
}

/** loadVaultPassword for synchronous callers (the configuration loader, for vault-encrypted group_vars). */
export function loadVaultPasswordSync(opts: { env?: NodeJS.ProcessEnv; fallbackFile?: string } = {}): string {
  const env = opts.env ?? process.env;
  const file = env.ANSIBLE_VAULT_PASSWORD_FILE ? resolve(env.ANSIBLE_VAULT_PASSWORD_FILE) : opts.fallbackFile;
  if (!file) throw new FloatUserError(`no vault password: ${HOW}`, 'F2032');
  let password: string;
  let script = false;
  try {
    if (isExecutable(file)) {
      script = true;
      const out = execFileSync(file, [], { encoding: 'utf8', stdio: ['inherit', 'pipe', 'inherit'] });
      password = out.replace(/^[\r\n]+|[\r\n]+$/g, '');
    } else {
      // Python's bytes.strip(): ASCII whitespace (space, \t, \n, \v, \f, \r).
      password = readFileSync(file, 'utf8').replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { status?: number | null; signal?: string | null };
    const why =
      e.code === 'ENOENT'
        ? 'no such file'
        : typeof e.status === 'number'
          ? `it exited with status ${e.status}`
          : e.signal
            ? `it was killed by ${e.signal}`
            : e.message;
    throw new FloatUserError(`cannot read the vault password from ${file}: ${why}; ${HOW}`, 'F2032');
  }
  if (!password) {
    const what = script ? `script ${file} printed no password` : `file ${file} is empty`;
    throw new FloatUserError(`the vault password ${what}; ${HOW}`, 'F2032');
  }
  return password;
}
