// Service definitions are data (issue 14): a `{{ lookup('pipe', …) }}` in an env
// value, args or an nginx snippet must not run a command on the controller. The
// compiled inventory is read by the real ansible and ansible-playbook, which
// render the real container env template; `env_templates: true` is the opt-in.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { REPO_ROOT, writeTree } from '../helpers/tree.js';

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ANSIBLE_LOCALHOST_WARNING: '0', ANSIBLE_NOCOLOR: '1', ANSIBLE_RETRY_FILES_ENABLED: '0' }, maxBuffer: 1 << 24 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: stdout + stderr }),
    );
  });
}

/** A configuration whose one container's env value, args and endpoint snippet each try to touch a file. */
function hostile(envTemplates: boolean) {
  const dir = writeTree({
    'config.yml': 'plugin: float\n',
    'group_vars/all.yml': 'domain: internal.example.com\ndomain_public: [example.com]\n',
    'hosts.yml': 'hosts:\n  host1:\n    ips: [10.0.0.1]\n    groups: [backend, frontend]\n',
  });
  const touch = (name: string) => `{{ lookup('pipe', 'touch ${join(dir, name)}') }}`;
  const services = [
    'web:',
    '  scheduling_group: backend',
    '  containers:',
    '    - name: c',
    '      image: app:1',
    `      args: "--flag ${touch('ARGS')}"`,
    ...(envTemplates ? ['      env_templates: true'] : []),
    '      env:',
    `        A: "${touch('ENV')}x"`,
    '        B: plain',
    '  public_endpoints:',
    '    - name: www',
    '      port: 8080',
    `      extra_nginx_config: "# ${touch('NGINX')}"`,
    // The built-in service that serves public endpoints (float check refuses them without it: F2023).
    'frontend:',
    '  scheduling_group: frontend',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'services.yml'), services);
  return { dir, touch };
}

const PLAYBOOK = (out: string) => `- hosts: host1
  connection: local
  gather_facts: false
  tasks:
    - name: Render the container env files with the role's template
      ansible.builtin.template:
        src: ${REPO_ROOT}/roles/float-base-containers/templates/container.env.j2
        dest: "${out}/{{ item }}.env"
        mode: "0600"
      loop: "{{ float_enabled_containers | map(attribute='tag') | list }}"
    - name: Write what Ansible sees of the service
      ansible.builtin.copy:
        content: "{{ {'args': services.web.containers[0].args, 'nginx': float_http_endpoints} | to_json }}"
        dest: "${out}/seen.json"
        mode: "0600"
`;

async function apply(dir: string): Promise<{ env: string; seen: string; inventory: string }> {
  const c = compile(join(dir, 'config.yml'));
  const out = join(dir, 'out');
  writeFileSync(join(dir, 'play.yml'), PLAYBOOK(out));
  mkdirSync(out);
  const inv = await run('ansible-inventory', ['-i', c.outDir, '--list']);
  expect(inv.code, inv.out).toBe(0);
  const p = await run('ansible-playbook', ['-i', c.outDir, '-e', 'ansible_python_interpreter=/usr/bin/python3', join(dir, 'play.yml')]);
  expect(p.code, p.out).toBe(0);
  return { env: readFileSync(join(out, 'web-c.env'), 'utf8'), seen: readFileSync(join(out, 'seen.json'), 'utf8'), inventory: inv.out };
}

describe.concurrent('configuration strings are data, not templates (real ansible)', { timeout: 180_000 }, () => {
  it('a lookup in an env value, args or extra_nginx_config runs nothing and arrives literally', async () => {
    const { dir, touch } = hostile(false);
    const r = await apply(dir);
    for (const f of ['ENV', 'ARGS', 'NGINX']) expect(existsSync(join(dir, f)), f).toBe(false);
    expect(r.env).toContain(`A=${touch('ENV')}x\n`);
    expect(r.env).toContain('B=plain\n');
    const seen = JSON.parse(r.seen) as { args: string; nginx: Record<string, Record<string, { extra_nginx_config: string }>> };
    expect(seen.args).toBe(`--flag ${touch('ARGS')}`);
    expect(seen.nginx['www.example.com']['/'].extra_nginx_config).toBe(`# ${touch('NGINX')}`);
    // ansible-inventory reads the tagged values as unsafe strings.
    expect(r.inventory).toContain(`"__ansible_unsafe": ${JSON.stringify(`${touch('ENV')}x`)}`);
  });

  it('positive control: with env_templates: true the env value is evaluated (and only it)', async () => {
    const { dir } = hostile(true);
    const r = await apply(dir);
    expect(existsSync(join(dir, 'ENV'))).toBe(true);
    expect(existsSync(join(dir, 'ARGS'))).toBe(false);
    expect(existsSync(join(dir, 'NGINX'))).toBe(false);
    expect(r.env).toContain('A=x\n');
  });
});
