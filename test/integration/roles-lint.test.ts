// The bundled roles and playbooks pass Debian's ansible-lint (production profile)
// and ansible-playbook's syntax check.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/tree.js';

const env = { ...process.env, ANSIBLE_ROLES_PATH: join(REPO_ROOT, 'roles'), ANSIBLE_NOCOLOR: '1', NO_COLOR: '1' };

describe('bundled roles and playbooks', () => {
  it('pass ansible-lint with the production profile', () => {
    const playbooks = readdirSync(join(REPO_ROOT, 'playbooks')).map((f) => join('playbooks', f));
    const r = spawnSync('ansible-lint', ['-p', '--profile', 'production', ...playbooks, 'roles/'], { cwd: REPO_ROOT, env, encoding: 'utf8' });
    expect(r.stdout + r.stderr, r.stdout).toContain('Passed with production profile');
    expect(r.status).toBe(0);
  });
  it('pass ansible-playbook --syntax-check', () => {
    for (const f of readdirSync(join(REPO_ROOT, 'playbooks'))) {
      const r = spawnSync('ansible-playbook', ['--syntax-check', '-i', 'localhost,', join(REPO_ROOT, 'playbooks', f)], { env, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
  });
});
