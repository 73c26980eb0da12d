#!/usr/bin/env node
// npm run demo: boots 3 local Debian test hosts (a frontend and two backends),
// deploys examples/demo to them with `float run site.yml`, and checks that the
// example HTTP service answers. Re-running reuses the environment.
// Needs root (network namespaces, systemd-nspawn); scripts/setup.mjs installs the rest.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, '.demo');
const config = join(dir, 'config.yml');
const float = (args, opts = {}) => {
  const r = spawnSync(process.execPath, [join(root, 'bin/float.mjs'), ...args], { stdio: 'inherit', cwd: dir, ...opts });
  if (r.status !== 0) {
    process.stderr.write(`demo: float ${args.join(' ')} failed (${r.status === null ? `killed by ${r.signal}` : `exit ${r.status}`})\n`);
    process.exit(r.status ?? 1);
  }
};
const step = (msg) => process.stderr.write(`\n==> ${msg}\n`);

if (process.getuid?.() !== 0) {
  process.stderr.write('demo: run as root: the local test hosts need network namespaces and systemd-nspawn\n');
  process.exit(2);
}
const t0 = Date.now();
if (!existsSync(config)) {
  step('creating the demo environment in .demo/ (3 local hosts)');
  const ex = join(root, 'examples/demo');
  // Checked like every other step: a failed create-env stops the demo here.
  float(
    ['create-env', dir, '--local', '--num-hosts', '3',
      '--services', join(ex, 'services.yml'), '--passwords', join(ex, 'passwords.yml'), '--playbook', join(ex, 'site.yml')],
    { cwd: root },
  );
}
step('booting the hosts (the first run builds a Debian rootfs: a few minutes)');
float(['env', 'up', '--config', config]);
step('importing the demo image on the hosts');
float(['env', 'busybox-image', '--config', config]);
step('float run site.yml');
float(['run', '--config', config, 'site.yml']);

step('checking the service');
const hosts = readFileSync(join(dir, 'hosts.yml'), 'utf8');
const frontendIp = /host1:\s*\n\s*ips: \[([\d.]+)\]/.exec(hosts)?.[1];
const domain = /^domain: (.+)$/m.exec(readFileSync(join(dir, 'group_vars/all/config.yml'), 'utf8'))?.[1];
const url = `http://hello.${domain}:8080/`;
// The service name resolves to every instance; each instance also has its own name.
const backends = [...hosts.matchAll(/^  (host\d+):\s*\n\s*ips: \[[\d.]+\]\s*\n.*\n\s*groups: \[backend/gm)].map((m) => m[1]);
const urls = [url, ...backends.map((h) => `http://${h}.hello.${domain}:8080/`)];
const probe = `import urllib.request as u; [print(x, u.urlopen(x, timeout=5).read().decode().strip()) for x in ${JSON.stringify(urls).replace(/'/g, '')}]`;
const out = execFileSync(process.execPath, [join(root, 'bin/float.mjs'), 'env', 'ssh', 'host1', '--config', config, '--', `python3 -c '${probe}'`], {
  encoding: 'utf8',
});
const answers = out.trim().split('\n');
const seconds = Math.round((Date.now() - t0) / 1000);
// The public endpoint, through the frontend's nginx, as a browser would reach it.
const publicName = `hello.${/^ {2}- (.+)$/m.exec(readFileSync(join(dir, 'group_vars/all/config.yml'), 'utf8'))?.[1]}`;
const viaFrontend = spawnSync('curl', ['-sk', '--max-time', '10', '--resolve', `${publicName}:443:${frontendIp}`, `https://${publicName}/`], { encoding: 'utf8' }).stdout.trim();
answers.push(`https://${publicName}/ (via the frontend) ${viaFrontend}`);
const ok = answers.length === urls.length + 1 && answers.every((a) => / hello from host\d+$/.test(a));
if (!ok) process.exitCode = 1;
process.stdout.write(
  `\nThe demo is up (${seconds} s). Fetched on the frontend host1 (${frontendIp}), and last from this machine through its nginx:\n` +
    answers.map((a) => `  ${a}\n`).join('') +
    `check: ${ok ? 'OK' : 'FAILED'} — ${answers.length} of ${urls.length + 1} addresses answered\n` +
    `Try it: curl -k --resolve ${publicName}:443:${frontendIp} https://${publicName}/\n` +
    `Log in: node bin/float.mjs env ssh host1 --config .demo/config.yml   Tear down: node bin/float.mjs env down --config .demo/config.yml\n`,
);
