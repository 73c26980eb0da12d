// Writes a tree of files into a fresh temporary directory, for fixtures defined inline.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

export function writeTree(files: Record<string, string>, prefix = 'float-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const [rel, text] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return dir;
}

/** A minimal valid configuration; override or add files as needed. */
export function baseTree(over: Record<string, string> = {}): Record<string, string> {
  return {
    'config.yml': 'plugin: float\n',
    'group_vars/all.yml': 'domain: internal.example.com\ndomain_public: [example.com]\n',
    'hosts.yml': [
      'hosts:',
      '  host1:',
      '    ips: [10.0.0.1]',
      '    groups: [frontend]',
      '  host2:',
      '    ips: [10.0.0.2]',
      '    groups: [backend]',
      '  host3:',
      '    ips: [10.0.0.3]',
      '    groups: [backend]',
      '',
    ].join('\n'),
    'services.yml': 'web:\n  scheduling_group: backend\n',
    ...over,
  };
}
