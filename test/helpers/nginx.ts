// The float-infra-nginx role's templates rendered by Ansible, and a real nginx on
// the loopback serving them (test/integration/nginx.test.ts, admin-nginx.test.ts).
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { freePort } from './prometheus.js';
import { renderRoleTemplates } from './render-role.js';

/** A self-signed EC certificate and key for `name` under dir/name/, as the role makes them. */
export function selfSignedCertificate(dir: string, name: string): void {
  mkdirSync(join(dir, name), { recursive: true });
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name}`,
    '-keyout', join(dir, name, 'privkey.pem'), '-out', join(dir, name, 'fullchain.pem')], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}

/** Renders nginx.conf, float.conf and the check script into dir/etc (the role's defaults, then vars). */
export function renderNginxRole(dir: string, vars: Record<string, unknown>): { main: string; float: string; check: string } {
  const etc = join(dir, 'etc');
  mkdirSync(join(etc, 'conf.d'), { recursive: true });
  const all = {
    domain: 'internal.example.com',
    float_public_credentials_dir: join(dir, 'public'),
    float_credentials_root: join(dir, 'x509'),
    float_nginx_cache_dir: join(dir, 'cache'),
    float_nginx_acme_webroot: join(dir, 'acme'),
    float_nginx_main: join(etc, 'nginx.conf'),
    float_nginx_confd: join(etc, 'conf.d'),
    ...vars,
  };
  renderRoleTemplates('float-infra-nginx', dir, all, [
    { src: 'nginx.conf.j2', dest: join(etc, 'nginx.conf') },
    { src: 'float.conf.j2', dest: join(etc, 'conf.d/float.conf') },
    { src: 'float-nginx-check.j2', dest: join(dir, 'float-nginx-check') },
  ]);
  return { main: join(etc, 'nginx.conf'), float: join(etc, 'conf.d/float.conf'), check: join(dir, 'float-nginx-check') };
}

export interface LoopbackNginx {
  /** The loopback ports the rendered `listen 80` and `listen 443 ssl` became. */
  http: number;
  https: number;
  /** What nginx wrote on stderr so far. */
  log(): string;
  stop(): void;
}

const answers = (port: number) =>
  new Promise<boolean>((res) => execFile('curl', ['-s', '--max-time', '5', `http://127.0.0.1:${port}/`], (err) => res(!err)));

/**
 * Starts nginx on the rendered float.conf, moved to two free loopback ports (no
 * IPv6, no HTTP/2), with the role's TLS settings from its nginx.conf in a main
 * file of its own (pid, logs and temporary files under dir); checked with
 * nginx -t first. Returns once it answers on its HTTP port.
 */
export async function startLoopbackNginx(dir: string, rendered: { main: string; float: string }): Promise<LoopbackNginx> {
  const { main, float } = rendered;
  const http = await freePort();
  const https = await freePort();
  writeFileSync(float, readFileSync(float, 'utf8')
    .replace(/^\s*listen \[::\]:.*\n/gm, '')
    .replace(/listen 80( default_server)?;/g, `listen 127.0.0.1:${http}$1;`)
    .replace(/listen 443 ssl/g, `listen 127.0.0.1:${https} ssl`)
    .replace(/ http2;/g, ';'));
  const ssl = readFileSync(main, 'utf8').split('\n').filter((l) => /^\s*ssl_/.test(l));
  const t = (n: string) => join(dir, n);
  writeFileSync(
    t('main.conf'),
    `daemon off;\nuser root root;\nworker_processes 1;\npid ${t('nginx.pid')};\nerror_log ${t('error.log')};\nevents { worker_connections 64; }\n` +
      `http {\n  access_log off;\n  client_body_temp_path ${t('body')};\n  proxy_temp_path ${t('proxy')};\n  fastcgi_temp_path ${t('fcgi')};\n` +
      `  uwsgi_temp_path ${t('uwsgi')};\n  scgi_temp_path ${t('scgi')};\n${ssl.join('\n')}\n  include ${float};\n}\n`,
  );
  const test = spawnSync('nginx', ['-t', '-c', t('main.conf')], { encoding: 'utf8' });
  expect(test.status, test.stderr + readFileSync(float, 'utf8')).toBe(0);
  const proc: ChildProcess = spawn('nginx', ['-c', t('main.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (d) => (log += d));
  for (let i = 0; i < 50 && !(await answers(http)); i++) await new Promise((r) => setTimeout(r, 100));
  return { http, https, log: () => log, stop: () => proc.kill('SIGQUIT') };
}
