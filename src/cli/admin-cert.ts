// float admin-cert NAME [--out FILE] [--password-file FILE]: exports an admin's
// client certificate (from the admin CA) and its key as a password-protected
// PKCS#12 file that browsers import. The key is decrypted in memory and handed
// to openssl on a pipe; only the encrypted PKCS#12 is written.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { FloatUserError } from '../config/diagnostics.js';
import { ensureAdminCertificates, loadAdminCredentials } from '../credentials/admin-ca.js';
import { withConfigLock } from '../lock.js';
import { findAdmin, loadModel, vaultCodec } from './admin-access.js';
import { configOption } from './options.js';

/**
 * The PKCS#12 of a certificate, its key and the CA, encrypted with `password`
 * (openssl's defaults: AES-256, PBKDF2, SHA-256 MAC). The certificates go to
 * openssl on stdin and the key on another pipe (fd 3): nothing unencrypted
 * touches a file.
 */
export function pkcs12(certPem: string, keyPem: string, caPem: string, name: string, password: string): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('openssl', ['pkcs12', '-export', '-in', '/dev/stdin', '-inkey', '/dev/fd/3', '-name', name, '-passout', 'env:FLOAT_P12_PASSWORD'], {
      env: { ...process.env, FLOAT_P12_PASSWORD: password },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => reject(new FloatUserError(`cannot run openssl: ${e.message}`, 'F2041')));
    child.on('close', (code) => {
      if (code === 0) resolvePromise(Buffer.concat(out));
      else reject(new FloatUserError(`openssl pkcs12 failed: ${Buffer.concat(err).toString().trim()}`, 'F2041'));
    });
    const keyPipe = child.stdio[3] as NodeJS.WritableStream;
    keyPipe.on('error', () => {});
    child.stdin!.on('error', () => {});
    keyPipe.end(keyPem);
    child.stdin!.end(certPem + caPem);
  });
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
        ensureAdminCertificates(dir, (model.globals.admins ?? []).map((a) => a.name), codec, new Date());
        return loadAdminCredentials(dir, name, codec);
      });
      const p12 = await pkcs12(creds.certPem, creds.keyPem, creds.caPem, name, password);
      try {
        writeFileSync(out, p12, { mode: 0o600, flag: 'wx' });
      } catch (err) {
        throw new FloatUserError(`cannot write ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'F2042');
      }
      process.stdout.write(`wrote ${out}: the client certificate of admin '${name}' (admin CA), for the admin-only endpoints\n`);
      if (generated) process.stdout.write(`its password: ${password}\n`);
    });
}
