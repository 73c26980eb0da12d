#!/usr/bin/env node
// Installs what float's tests and demo need on a fresh Debian machine:
// npm packages (when node_modules is missing or older than package-lock.json),
// the CLI's JavaScript (scripts/build.mjs: dist/, when older than src/) and,
// when run as root, the Debian packages float drives (ansible, openssl, debootstrap, ...).
// Usage: node scripts/setup.mjs [--npm-only]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from './build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npmOnly = process.argv.includes('--npm-only');

function log(msg) {
  process.stderr.write(`setup: ${msg}\n`);
}

function npmInstall() {
  const modules = join(root, 'node_modules');
  const stamp = join(modules, '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= statSync(lock).mtimeMs) return;
  log('installing npm packages');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

// Debian packages: the tools float runs (ansible-playbook, ansible-vault, openssl, ssh-keygen)
// and what the local test hosts need (debootstrap, systemd-nspawn, ip, iptables).
export const DEBIAN_PACKAGES = [
  'ansible', 'ansible-lint', 'openssl', 'openssh-client', 'git', 'debootstrap', 'systemd-container',
  'iproute2', 'iptables', 'busybox-static', 'curl', 'dnsutils', 'vagrant',
  // The frontend roles' daemons, run by the tests on the loopback (named-checkzone, named, haproxy -c).
  'bind9', 'bind9-utils', 'haproxy',
  // nginx -t on rendered templates, and the firewall role's scripts in a network namespace.
  'nginx', 'libnginx-mod-stream', 'nftables',
  // A real ACME server for the public certificates end-to-end test.
  'pebble',
  // PyYAML, which Ansible reads YAML with: the tests compare float's YAML reading and writing with it.
  'python3-yaml',
  // ansible-mitogen: float run's Ansible strategy when installed (about twice as fast).
  'ansible-mitogen',
  // Cluster services' checkers and clients: promtool (prometheus), amtool (prometheus-alertmanager),
  // restic (float backups), wg (overlay keys), rsyslogd -N1, and headless chromium for the dashboard.
  'prometheus', 'prometheus-alertmanager', 'restic', 'wireguard-tools', 'rsyslog', 'rsyslog-gnutls', 'chromium',
];

// Daemons in DEBIAN_PACKAGES are installed for their checkers only: keep apt from starting them
// on this machine (policy-rc.d, honoured by invoke-rc.d and deb-systemd-invoke).
const POLICY_RC = '/usr/sbin/policy-rc.d';

function missingDebianPackages() {
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Package} ${db:Status-Abbrev}\n', ...DEBIAN_PACKAGES], {
    encoding: 'utf8',
  });
  const installed = new Set(
    (r.stdout || '')
      .split('\n')
      .filter((l) => /\sii\s*$/.test(l))
      .map((l) => l.split(' ')[0]),
  );
  return DEBIAN_PACKAGES.filter((p) => !installed.has(p));
}

function aptInstall() {
  if (npmOnly) return;
  if (!existsSync('/usr/bin/dpkg-query')) return;
  const missing = missingDebianPackages();
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    log(`missing Debian packages (run as root to install them): ${missing.join(' ')}`);
    return;
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
  const ownPolicy = !existsSync(POLICY_RC);
  if (ownPolicy) writeFileSync(POLICY_RC, '#!/bin/sh\n# float setup: do not start daemons while installing\nexit 101\n', { mode: 0o755 });
  try {
    execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  } finally {
    if (ownPolicy) unlinkSync(POLICY_RC);
  }
}

npmInstall();
try {
  build({ log });
} catch (err) {
  log(err.message);
  process.exit(1);
}
aptInstall();
