// float ssh-cert NAME [--pubkey FILE] [--valid 8h] [--out FILE]: signs an
// admin's SSH public key with the SSH CA, in process, as a short-lived user
// certificate (principals: the admin's name and root). The hosts accept it for
// root, and for the admin's own account with admin_accounts, as long as the
// admin is in the configuration applied to them (float-base-ssh).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { FloatUserError } from '../config/diagnostics.js';
import { writeFileAtomic } from '../credentials/atomic.js';
import { signUserKey } from '../credentials/ssh-ca.js';
import { parseCertificate, parsePublicKeyLine } from '../credentials/ssh-cert.js';
import { withConfigLock } from '../lock.js';
import { findAdmin, loadModel, parseValidity, vaultCodec } from '../admin-access.js';
import { configOption } from './options.js';

export function register(program: Command): void {
  program
    .command('ssh-cert')
    .description("sign an admin's SSH public key with the SSH CA as a short-lived user certificate (principals: the admin's name and root)")
    .argument('<name>', 'the admin (a name in admins)')
    .addOption(configOption())
    .option('--pubkey <file>', 'the public key to sign', '~/.ssh/id_ed25519.pub')
    .option('--valid <duration>', 'validity: a number and s, m, h, d or w; at most 31 days', '8h')
    .option('--out <file>', 'where to write the certificate (default: next to the key, KEY-cert.pub, where ssh finds it)')
    .action(async (name: string, opts: { config: string; pubkey: string; valid: string; out?: string }) => {
      const seconds = parseValidity(opts.valid);
      const model = loadModel(opts.config);
      findAdmin(model, name);
      if (!model.globals.enable_ssh) throw new FloatUserError('enable_ssh is false: the hosts do not trust the SSH CA', 'F2143');
      const pubPath = resolve(opts.pubkey.replace(/^~(?=\/)/, homedir()));
      if (!existsSync(pubPath)) throw new FloatUserError(`--pubkey ${pubPath}: no such file (create a key with ssh-keygen -t ed25519, or name one with --pubkey)`, 'F2143');
      const line = readFileSync(pubPath, 'utf8').split('\n').find((l) => l.trim() && !l.startsWith('#')) ?? '';
      try {
        parsePublicKeyLine(line);
      } catch (err) {
        throw new FloatUserError(`--pubkey ${pubPath}: ${(err as Error).message}`, 'F2143');
      }
      const out = resolve(opts.out ?? pubPath.replace(/\.pub$/, '') + '-cert.pub');
      const codec = await vaultCodec(model);
      const cert = await withConfigLock(opts.config, { command: 'float ssh-cert', noWait: false }, () =>
        signUserKey(model.config.credentials_dir, codec, line, { identity: `${name} (float ssh-cert)`, principals: [name, 'root'], validSeconds: seconds }),
      );
      writeFileAtomic(out, cert + '\n', 0o644);
      const c = parseCertificate(cert);
      process.stdout.write(`wrote ${out}: certificate of admin '${name}' for root and ${name}, serial ${c.serial}, valid until ${c.validBefore.toISOString()}\n`);
    });
}
