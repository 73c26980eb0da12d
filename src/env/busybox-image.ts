// A tiny container image for test environments, built from Debian's
// busybox-static (there is no registry here) and imported on test hosts as
// localhost/busybox:latest.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FloatUserError } from '../config/diagnostics.js';
import { sshCommand } from './local-hosts.js';
import type { EnvSpec } from './spec.js';

export const BUSYBOX_IMAGE = 'localhost/busybox:latest';
const APPLETS = ['sh', 'httpd', 'hostname', 'echo', 'cat', 'ls', 'wget', 'nc', 'sleep', 'id', 'ping'];

/** Builds the image root file system as a tar archive; returns its path. */
function buildBusyboxTar(busybox = '/bin/busybox'): string {
  if (!existsSync(busybox)) {
    throw new FloatUserError(`${busybox} not found: install Debian's busybox-static (apt-get install busybox-static)`, 'F2041');
  }
  const dir = mkdtempSync(join(tmpdir(), 'float-busybox-'));
  const root = join(dir, 'rootfs');
  for (const d of ['bin', 'tmp', 'etc']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(busybox, join(root, 'bin/busybox'));
  execFileSync('chmod', ['0755', join(root, 'bin/busybox')]);
  execFileSync('chmod', ['1777', join(root, 'tmp')]);
  for (const a of APPLETS) symlinkSync('busybox', join(root, 'bin', a));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/:/bin/sh\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
  const tar = join(dir, 'busybox.tar');
  execFileSync('tar', ['-C', root, '-cf', tar, '.']);
  rmSync(root, { recursive: true, force: true });
  return tar;
}

/** The shell command that imports the archive (on stdin) on a host, unless the image is there. */
function importCommand(): string {
  return `podman image exists ${BUSYBOX_IMAGE} || podman import --change 'CMD=["/bin/sh"]' - ${BUSYBOX_IMAGE} >/dev/null`;
}

/** Imports the image on every host of a local environment (skipped where it exists). */
export async function importBusyboxImage(spec: EnvSpec, hosts = spec.hosts.map((h) => h.name)): Promise<void> {
  const tar = buildBusyboxTar();
  try {
    for (const h of hosts) {
      const [cmd, ...args] = sshCommand(spec, h, [importCommand()]);
      execFileSync(cmd, args, { input: readFileSync(tar), stdio: ['pipe', 'ignore', 'pipe'] });
    }
  } finally {
    rmSync(dirname(tar), { recursive: true, force: true });
  }
}
