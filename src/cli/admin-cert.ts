// float admin-cert NAME [--out FILE] [--password-file FILE]: exports an admin's
// client certificate (from the admin CA) and its key as a password-protected
// PKCS#12 file that browsers import. The key is decrypted in memory and handed
// to openssl on a pipe; only the encrypted PKCS#12 is written.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { FloatUserError } from '../config/diagnostics.js';
import { adminPaths, ensureConfiguredAdminCertificates, loadAdminCredentials } from '../credentials/admin-ca.js';
import { withConfigLock } from '../lock.js';
import { findAdmin, loadModel, vaultCodec } from '../admin-access.js';
import { configOption } from './options.js';

/**
 * The PKCS#12 of a certificate, its key and the CA, encrypted with `password`
 * (openssl's defaults: AES-256, PBKDF2, SHA-256 MAC). The certificates are read
 * from their files (they are public); the key goes to openssl through pipes
 * only (cat turns node's stdin socket into a pipe openssl can open as
 * /dev/stdin): nothing unencrypted touches a file.
 */
export function pkcs12(certFile: string, caFile: string, keyPem: string, name: string, password: string): Buffer {
  const script = 'cat | openssl pkcs12 -export -inkey /dev/stdin -in "$1" -certfile "$2" -name "$3" -passout env:FLOAT_P12_PASSWORD';
  const r = spawnSync('sh', ['-c', script, 'sh', certFile, caFile, name], {
    input: keyPem,
    env: { ...process.env, FLOAT_P12_PASSWORD: password },
    maxBuffer: 16 << 20,
  });
  if (r.error) throw new FloatUserError(`cannot run openssl: ${r.error.message}`, 'F2041');
  if (r.status !== 0 || r.stdout.length === 0) throw new FloatUserError(`openssl pkcs12 failed: ${r.stderr.toString().trim()}`, 'F2041');
  return r.stdout;
}

export function register(program: Command): void {
  program
    .command('admin-cert')
    .description("export an admin's client certificate for the admin-only endpoints as a password-protected PKCS#12 file")
    .argument('<name>', 'the admin (a name in admins)')
    .addOption(configOption())
    .option('--out <file>', 'where to write the PKCS#12 file (default: NAME.p12); an existing file is not overwritten')
    .option('--password-file <file>', 'take the PKCS#12 password from this file (first line) instead of generating and printing one')
    .action(async (name: string, opts: { config: string; out?: string; passwordFile?: string }) => {
      const model = loadModel(opts.config);
      findAdmin(model, name);
      const out = resolve(opts.out ?? `${name}.p12`);
      if (existsSync(out)) throw new FloatUserError(`${out} exists: float admin-cert does not overwrite files; remove it or choose another --out`, 'F2042');
      let password: string;
      let generated = false;
      if (opts.passwordFile) {
        try {
          password = readFileSync(opts.passwordFile, 'utf8').split('\n')[0];
        } catch (err) {
          throw new FloatUserError(`--password-file ${opts.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'F2040');
        }
        if (password.length < 8) throw new FloatUserError(`--password-file ${opts.passwordFile}: the password must have at least 8 characters`, 'F2040');
      } else {
        password = randomBytes(18).toString('base64url');
        generated = true;
      }
      const codec = await vaultCodec(model);
      const dir = model.config.credentials_dir;
      // The certificate is issued here if float run has not done it yet (same rules as float run).
      const creds = await withConfigLock(opts.config, { command: 'float admin-cert', noWait: false }, async () => {
        ensureConfiguredAdminCertificates(model, codec, new Date());
        return loadAdminCredentials(dir, name, codec);
      });
      const paths = adminPaths(dir);
      const p12 = pkcs12(paths.cert(name), paths.caCert, creds.keyPem, name, password);
      try {
        writeFileSync(out, p12, { mode: 0o600, flag: 'wx' });
      } catch (err) {
        throw new FloatUserError(`cannot write ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'F2042');
      }
      process.stdout.write(`wrote ${out}: the client certificate of admin '${name}' (admin CA), for the admin-only endpoints\n`);
      if (generated) process.stdout.write(`its password: ${password}\n`);
    });
}
