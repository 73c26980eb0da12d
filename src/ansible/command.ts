// Builds the ansible-playbook command line as data (argv + environment). Pure:
// tests compare the built command; only src/ansible/run.ts executes it.
import { existsSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { FloatUserError } from '../config/diagnostics.js';
import { shellQuote } from './ssh.js';

export interface PlaybookCommand {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

export interface PlaybookCommandInput {
  /** The float package root (bundled roles/, playbooks/, plugins/). */
  floatRoot: string;
  /** Directory of config.yml; ansible-playbook runs there (so its ansible.cfg applies). */
  configDir: string;
  inventoryDir: string;
  playbook: string;
  /** Options passed through to ansible-playbook as given. */
  passthrough: string[];
  vaultPasswordFile?: string;
  /** Extra roles paths (config.yml roles_path), searched after the bundled roles. */
  rolesPaths?: string[];
  /** Extra variables float itself sets (e.g. the configuration commit). */
  floatVars?: Record<string, string | boolean>;
}

/** Finds the playbook: the path as given (relative to cwd), else a bundled one (adding .yml). */
export function resolvePlaybook(playbook: string, floatRoot: string, cwd = process.cwd()): string {
  const direct = isAbsolute(playbook) ? playbook : resolve(cwd, playbook);
  if (existsSync(direct)) return direct;
  const bundledDir = join(floatRoot, 'playbooks');
  for (const candidate of [join(bundledDir, playbook), join(bundledDir, `${playbook}.yml`)]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new FloatUserError(
    `playbook '${playbook}' not found: it is neither a file (relative to ${cwd}) nor one of float's built-in playbooks in ${bundledDir}`,
    'F2045',
  );
}

/**
 * The environment every Ansible command float runs gets (ansible-playbook, and the
 * ad hoc commands of float backups/restore): the roles path, the YAML inventory
 * plugin, the vault password file.
 */
export function ansibleEnv(input: Pick<PlaybookCommandInput, 'floatRoot' | 'configDir' | 'vaultPasswordFile' | 'rolesPaths'>): Record<string, string> {
  const rolesPath = [join(input.floatRoot, 'roles'), ...(input.rolesPaths ?? []), join(input.configDir, 'roles')];
  const env: Record<string, string> = {
    ANSIBLE_ROLES_PATH: rolesPath.join(delimiter),
    ANSIBLE_INVENTORY_ENABLED: 'yaml',
  };
  if (input.vaultPasswordFile) env.ANSIBLE_VAULT_PASSWORD_FILE = input.vaultPasswordFile;
  return env;
}

export function buildPlaybookCommand(input: PlaybookCommandInput): PlaybookCommand {
  const env = { ...ansibleEnv(input), ANSIBLE_FORCE_HANDLERS: 'True' };
  const args = ['-i', input.inventoryDir];
  for (const [k, v] of Object.entries(input.floatVars ?? {}).sort()) {
    args.push('-e', JSON.stringify({ [k]: v }));
  }
  args.push(...input.passthrough, input.playbook);
  return { file: 'ansible-playbook', args, env, cwd: input.configDir };
}

/** Renders a command as one shell-like line, for messages and tests. */
export function commandLine(c: PlaybookCommand): string {
  return [c.file, ...c.args].map(shellQuote).join(' ');
}
