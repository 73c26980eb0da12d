// float sign-host-key: used by the float-base-ssh role during `float run`, once
// per host. Reads the host's SSH public keys (and their current certificates, if
// any) on stdin as JSON, and prints the certificates the host should have: the
// current one when it is still good (same key, same CA, same principals, more
// than 30 days left), otherwise a new one signed by the SSH CA in
// credentials_dir (the CA key is decrypted once for all of them).
//
//   {"keys": [{"public_key": "...", "certificate": "..."}, ...]}  ->  {"certificates": ["...", ...]}
//   {"public_key": "...", "certificate": "..."}                    ->  the certificate line
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FloatUserError, hasErrors } from '../config/diagnostics.js';
import { loadConfig } from '../config/load.js';
import { caFingerprint, inspectCertificate, keyFingerprint, signHostKeys } from '../credentials/ssh-ca.js';
import { makeVaultCodec } from '../credentials/vault.js';
import { loadVaultPassword } from '../credentials/vault-password.js';
import { configOption } from './options.js';

const RENEW_DAYS = 30;

interface KeyInput {
  public_key: string;
  certificate: string;
}

const inputError = (message: string) => new FloatUserError(`sign-host-key: ${message}`, 'F2060');

/** The keys on stdin, checked: JSON of one of the two shapes, every field a string. */
function parseSignInput(text: string): { keys: KeyInput[]; many: boolean } {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (err) {
    throw inputError(`stdin is not JSON (${(err as Error).message}); expected {"keys": [{"public_key": ..., "certificate": ...}, ...]}`);
  }
  const one = (x: unknown, where: string): KeyInput => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw inputError(`${where}: expected an object {public_key, certificate}`);
    const o = x as Record<string, unknown>;
    if (typeof o.public_key !== 'string' || !o.public_key.trim()) throw inputError(`${where}: no public_key`);
    if (o.certificate !== undefined && o.certificate !== null && typeof o.certificate !== 'string') throw inputError(`${where}: certificate must be a string`);
    return { public_key: o.public_key, certificate: typeof o.certificate === 'string' ? o.certificate : '' };
  };
  if (typeof input === 'object' && input !== null && !Array.isArray(input) && 'keys' in input) {
    const keys = (input as { keys: unknown }).keys;
    if (!Array.isArray(keys) || keys.length === 0) throw inputError('keys: expected a non-empty list');
    return { keys: keys.map((k, i) => one(k, `keys[${i}]`)), many: true };
  }
  return { keys: [one(input, 'stdin')], many: false };
}

export function register(program: Command): void {
  program
    .command('sign-host-key')
    .description('sign all of a host\'s SSH keys with the SSH CA in one call (used by the float-base-ssh role; JSON on stdin)')
    .addOption(configOption())
    .requiredOption('--host <name>', 'inventory host name (the certificate identity)')
    .requiredOption('--principal <name...>', 'principals of the certificates')
    .action(async (opts: { config: string; host: string; principal: string[] }) => {
      const { keys, many } = parseSignInput(readFileSync(0, 'utf8'));
      const loaded = loadConfig(opts.config);
      if (!loaded.model || hasErrors(loaded.diagnostics)) {
        throw loaded.diagnostics.length ? new FloatUserError(loaded.diagnostics) : new FloatUserError(`sign-host-key: cannot load ${opts.config}`, 'F1005');
      }
      const model = loaded.model;
      const dir = model.config.credentials_dir;
      // In the order given (the certificate lists them so), without repeats; compared as sets.
      const principals = [...new Set(opts.principal.map((x) => x.trim()).filter(Boolean))];
      const sorted = [...principals].sort().join(',');
      let ca: string | undefined;
      const stillGood = (k: KeyInput): boolean => {
        if (!k.certificate.trim()) return false;
        let info;
        try {
          info = inspectCertificate(k.certificate);
        } catch {
          return false; // a damaged certificate file on the host: sign again
        }
        const fresh = info.validBefore !== undefined && info.validBefore.getTime() - Date.now() > RENEW_DAYS * 86_400_000;
        ca ??= caFingerprint(dir);
        return info.keyFingerprint === keyFingerprint(k.public_key) && fresh && info.signingCaFingerprint === ca && [...new Set(info.principals)].sort().join(',') === sorted;
      };
      const out: string[] = keys.map((k) => (stillGood(k) ? k.certificate.trim() : ''));
      const toSign = keys.map((k, i) => ({ k, i })).filter(({ i }) => !out[i]);
      if (toSign.length) {
        const password = await loadVaultPassword({ fallbackFile: model.config.vault_password_file });
        const signed = await signHostKeys(dir, makeVaultCodec(password), toSign.map(({ k }) => k.public_key), { identity: opts.host, principals });
        toSign.forEach(({ i }, j) => (out[i] = signed[j]));
      }
      process.stdout.write(many ? JSON.stringify({ certificates: out }) + '\n' : out[0] + '\n');
    });
}
