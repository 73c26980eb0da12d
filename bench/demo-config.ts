// The demo's configuration for the benchmarks: `float create-env --local` with
// examples/demo, as `npm run demo` writes it, in a fresh temporary directory.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Writes the demo environment; returns its config.yml (remove dirname(dirname(it)) afterwards). */
export function demoConfig(prefix: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), prefix)), 'demo');
  const ex = join(root, 'examples', 'demo');
  const r = spawnSync(
    process.execPath,
    [join(root, 'bin', 'float.mjs'), 'create-env', dir, '--local', '--num-hosts', '3', '--services', join(ex, 'services.yml'), '--passwords', join(ex, 'passwords.yml'), '--playbook', join(ex, 'site.yml')],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`float create-env exited ${r.status}:\n${r.stderr}`);
  return join(dir, 'config.yml');
}
