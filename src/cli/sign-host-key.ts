// float sign-host-key: used by the float-base-ssh role during `float run`. Reads a
// host's SSH public key (and its current certificate, if any) on stdin as JSON
// {public_key, certificate}, and prints the certificate the host should have:
// the current one when it is still good (same CA, same principals, more than 30
// days left), otherwise a new one signed by the SSH CA in credentials_dir.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FloatUserError } from '../config/diagnostics.js';
import { loadConfig } from '../config/load.js';
import { caFingerprint, inspectCertificate, keyFingerprint, signHostKey } from '../credentials/ssh-ca.js';
import { makeVaultCodec } from '../credentials/vault.js';
import { loadVaultPassword } from '../credentials/vault-password.js';
import { configOption } from './options.js';

const RENEW_DAYS = 30;

export function register(program: Command): void {
  program
    .command('sign-host-key')
    .description('sign a host SSH key with the SSH CA (used by the float-base-ssh role; JSON {public_key, certificate} on stdin)')
    .addOption(configOption())
    .requiredOption('--host <name>', 'inventory host name (the certificate identity)')
    .requiredOption('--principal <name...>', 'principals of the certificate')
    .action(async (opts: { config: string; host: string; principal: string[] }) => {
      const input = JSON.parse(readFileSync(0, 'utf8')) as { public_key?: string; certificate?: string };
      if (!input.public_key) throw new FloatUserError('sign-host-key: no public_key on stdin', 'F2040');
      const { model } = loadConfig(opts.config);
      if (!model) throw new FloatUserError(`sign-host-key: cannot load ${opts.config}`, 'F1005');
      const dir = model.config.credentials_dir;
      // In the order given (the certificate lists them so), without repeats; compared as sets.
      const principals = [...new Set(opts.principal.map((x) => x.trim()).filter(Boolean))];
      const sorted = [...principals].sort().join(',');
      if (input.certificate?.trim()) {
        const info = inspectCertificate(input.certificate);
        const sameKey = info.keyFingerprint === keyFingerprint(input.public_key);
        const fresh = info.validBefore && info.validBefore.getTime() - Date.now() > RENEW_DAYS * 86_400_000;
        if (sameKey && fresh && info.signingCaFingerprint === caFingerprint(dir) && [...new Set(info.principals)].sort().join(',') === sorted) {
          process.stdout.write(input.certificate.trim() + '\n');
          return;
        }
      }
      const password = await loadVaultPassword({ fallbackFile: model.config.vault_password_file });
      const cert = await signHostKey(dir, makeVaultCodec(password), input.public_key, { identity: opts.host, principals });
      process.stdout.write(cert + '\n');
    });
}
