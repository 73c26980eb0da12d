// float installed in a directory whose path has a space: the build, the package
// root and the files found from it (services.default.yml, passwords.yml.default,
// the create-env templates) must work there as anywhere.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/tree.js';

describe('an install path with a space', () => {
  const base = mkdtempSync(join(tmpdir(), 'float install '));
  const root = join(base, 'float checkout');
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('builds, writes a test environment that includes the built-in files, and checks it', () => {
    mkdirSync(root);
    for (const f of ['bin', 'scripts', 'src', 'playbooks', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'services.default.yml', 'passwords.yml.default']) {
      cpSync(join(REPO_ROOT, f), join(root, f), { recursive: true });
    }
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
    const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    expect(existsSync(join(root, 'dist/cli/main.js'))).toBe(true);
    const float = (args: string[]) => spawnSync(process.execPath, [join(root, 'bin/float.mjs'), ...args], { cwd: base, encoding: 'utf8' });
    const created = float(['create-env', 'my env', '--local', '--num-hosts', '2']);
    expect(created.status, created.stderr).toBe(0);
    const checked = float(['check', '--config', join(base, 'my env', 'config.yml')]);
    expect(checked.stderr).toBe('');
    expect(checked.stdout).toMatch(/^ok: \d+ services, 2 hosts$/m);
    expect(checked.status).toBe(0);
  });
});
