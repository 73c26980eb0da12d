// What the admin-access commands share (float admin-cert, ssh-cert, ssh): the
// configuration loaded and checked, the admin named on the command line, the
// vault codec.
import { FloatUserError } from './config/diagnostics.js';
import type { Model } from './config/load.js';
import { makeVaultCodec } from './credentials/vault.js';
import { loadVaultPassword } from './credentials/vault-password.js';
import type { VaultCodec } from './credentials/types.js';
import { plan } from './plan.js';

export function loadModel(configPath: string): Model {
  return plan(configPath).model;
}

/** The admin `name` of the configuration, or a user error listing the admins there are. */
export function findAdmin(model: Model, name: string): { name: string; ssh_keys: string[] } {
  const a = (model.globals.admins ?? []).find((x) => x.name === name);
  if (!a) {
    const known = (model.globals.admins ?? []).map((x) => x.name);
    throw new FloatUserError(`'${name}' is not in admins (${known.length ? known.join(', ') : 'no admins configured'})`, 'F2143');
  }
  return a;
}

export async function vaultCodec(model: Model): Promise<VaultCodec> {
  return makeVaultCodec(await loadVaultPassword({ fallbackFile: model.config.vault_password_file }));
}

/** A duration like 8h, 30m, 2d, 1w, 90s: seconds. At most 31 days: these certificates are meant to be short-lived. */
export function parseValidity(text: string): number {
  const m = /^([1-9][0-9]{0,5})([smhdw])$/.exec(text.trim());
  const unit = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;
  const seconds = m ? Number(m[1]) * unit[m[2] as keyof typeof unit] : NaN;
  if (!Number.isFinite(seconds) || seconds > 31 * 86_400) {
    throw new FloatUserError(`--valid ${text}: expected a duration of at most 31 days, a number and a unit (s, m, h, d, w), e.g. 8h`, 'F2040');
  }
  return seconds;
}
