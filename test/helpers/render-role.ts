// Renders a bundled role's templates the way the role would: ansible-playbook on
// localhost, the role's defaults first, then `vars` as extra variables, written as
// float's inventory writes them (configuration strings stay `!unsafe`).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { toYaml } from '../../src/inventory/yaml-emit.js';
import { REPO_ROOT } from './tree.js';

export interface RenderTask {
  /** Template file name under the role's templates/. */
  src: string;
  dest: string;
  /** A Jinja loop expression, for templates rendered once per item. */
  loop?: string;
  /** `[[ ]]` and `[% %]` as Ansible's delimiters, as the role's task sets them (templates holding Prometheus' `{{ }}`). */
  jinja?: 'brackets';
}

export function renderRoleTemplates(role: string, dir: string, vars: Record<string, unknown>, tasks: RenderTask[]): void {
  const roleDir = join(REPO_ROOT, 'roles', role);
  const play = [
    {
      name: 'Render',
      hosts: 'localhost',
      connection: 'local',
      gather_facts: false,
      vars_files: [join(roleDir, 'defaults/main.yml')],
      tasks: tasks.map((t) => ({
        name: `Render ${t.src}`,
        'ansible.builtin.template': {
          src: join(roleDir, 'templates', t.src),
          dest: t.dest,
          mode: '0644',
          ...(t.jinja === 'brackets' ? { variable_start_string: '[[', variable_end_string: ']]', block_start_string: '[%', block_end_string: '%]' } : {}),
        },
        ...(t.loop ? { loop: t.loop } : {}),
      })),
    },
  ];
  writeFileSync(join(dir, 'render.yml'), JSON.stringify(play));
  writeFileSync(join(dir, 'vars.yml'), toYaml(vars));
  const r = spawnSync('ansible-playbook', ['-i', 'localhost,', '-e', `@${join(dir, 'vars.yml')}`, join(dir, 'render.yml')], {
    encoding: 'utf8',
    // The role's own filters (quoting) are loaded as they are when the role runs.
    env: { ...process.env, ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3', ANSIBLE_NOCOLOR: '1', ANSIBLE_FILTER_PLUGINS: join(roleDir, 'filter_plugins') },
  });
  expect(r.status, r.stdout + r.stderr).toBe(0);
}
