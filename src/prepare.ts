// What every command that talks to hosts does first: plan, derive, refresh the
// credentials, then emit the inventory (with the encrypted secrets in it).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaultInventoryDir } from './compile.js';
import type { Diagnostic } from './config/diagnostics.js';
import { hostKeysPath } from './credentials/pki-store.js';
import { refreshCredentials, secretsInventoryFile, secretsPath, type CredentialsReport } from './credentials/index.js';
import { makeVaultCodec } from './credentials/vault.js';
import { backupSshKeyInventoryFile } from './credentials/backup-ssh-key.js';
import { loadVaultPassword } from './credentials/vault-password.js';
import { dashboardInventoryFiles } from './dashboard/index.js';
import { deriveInventory } from './inventory/derive.js';
import { emitInventory } from './inventory/emit.js';
import { plan, type Plan } from './plan.js';
import { overlayInventoryFiles } from './credentials/overlay-files.js';

export interface Prepared {
  plan: Plan;
  inventoryDir: string;
  vaultPasswordFile: string;
  rolesPaths: string[];
  credentials: CredentialsReport;
  diagnostics: Diagnostic[];
}

/** The vault password file: ANSIBLE_VAULT_PASSWORD_FILE, else config.yml's vault_password_file. */
export function vaultPasswordFile(p: Plan, env = process.env): string | undefined {
  return env.ANSIBLE_VAULT_PASSWORD_FILE ? resolve(env.ANSIBLE_VAULT_PASSWORD_FILE) : p.model.config.vault_password_file;
}

export async function prepare(configPath: string, opts: { out?: string; now?: Date } = {}): Promise<Prepared> {
  const p = plan(configPath);
  const inventory = deriveInventory(p.model, p.schedule);
  const passwordFile = vaultPasswordFile(p);
  // A missing password is an error before anything is written.
  const password = await loadVaultPassword({ env: process.env, fallbackFile: p.model.config.vault_password_file });
  const codec = makeVaultCodec(password);
  const credentials = await refreshCredentials(p.model, inventory, codec, opts.now);
  const extraFiles = dashboardInventoryFiles(p);
  if (existsSync(secretsPath(p.model))) extraFiles.set('group_vars/all/secrets.yml', secretsInventoryFile(p.model));
  const backupKey = backupSshKeyInventoryFile(p.model.config.credentials_dir);
  if (backupKey) extraFiles.set('group_vars/all/backup_ssh_key.yml', backupKey);
  // Each host's private keys, still vault-encrypted: Ansible decrypts vars files itself.
  for (const h of p.model.hosts) {
    const keys = hostKeysPath(p.model.config.credentials_dir, h.name);
    if (existsSync(keys)) extraFiles.set(`host_vars/${h.name}/private_keys.yml`, readFileSync(keys, 'utf8'));
  }
  for (const [rel, text] of overlayInventoryFiles(p.model)) extraFiles.set(rel, text);
  const inventoryDir = resolve(opts.out ?? defaultInventoryDir(configPath));
  emitInventory(inventory, inventoryDir, { extraFiles });
  return {
    plan: p,
    inventoryDir,
    vaultPasswordFile: passwordFile!,
    rolesPaths: p.model.config.roles_path ? [p.model.config.roles_path] : [],
    credentials,
    diagnostics: p.diagnostics,
  };
}
