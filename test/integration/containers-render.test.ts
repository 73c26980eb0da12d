// float-base-containers' templates rendered by Ansible with hostile values: the
// unit passes `systemd-analyze verify` and every pasted value comes back as one
// literal argument (%, $, quotes, backslashes and spaces included); the env file
// reads back, the way podman --env-file reads it, as exactly the values given.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderRoleTemplates } from '../helpers/render-role.js';

const HOSTILE = `50% of $HOME and \${X} %n "double" 'single' back\\slash \\"x`;
const ENV = { PLAIN: 'value', HOSTILE, LEADING: '  spaced ', EQUALS: 'a=b=c', HASH: '#not a comment', FLAG: true, NUM: 5 };
const TMPFS = `/data dir "q" 100%`;
const BIND = { '/srv/a b$c': '/mnt/x y%' };

function render(): { unit: string; env: string } {
  const dir = mkdtempSync(join(tmpdir(), 'float-containers-render-'));
  const containers = [
    {
      tag: 'app-main',
      service: 'app',
      container: { name: 'main', image: 'registry.example.com/app:1', env: ENV, args: '/bin/sh -c "exec sleep 100" 50% $HOME', volumes: [{ tmpfs: TMPFS }, BIND] },
    },
  ];
  renderRoleTemplates(
    'float-base-containers',
    dir,
    {
      float_enabled_containers: containers,
      services: { app: { service_credentials: [{ name: 'app' }] } },
      float_container_uids: { 'docker-app': 1001 },
      float_container_gids: { 'docker-app': 1001, 'app-credentials': 1002 },
    },
    [
      { src: 'container.service.j2', dest: join(dir, '{{ item }}.service'), loop: "{{ float_enabled_containers | map(attribute='tag') | list }}" },
      { src: 'container.env.j2', dest: join(dir, '{{ item }}.env'), loop: "{{ float_enabled_containers | map(attribute='tag') | list }}" },
    ],
  );
  return { unit: join(dir, 'app-main.service'), env: join(dir, 'app-main.env') };
}

/**
 * The words of ExecStart as systemd splits them: continuation lines joined,
 * double-quoted words with \\ and \" escapes, then %% and $$ unescaped.
 */
function execStartWords(unit: string): string[] {
  const text = unit.replace(/\\\n/g, ' ');
  const line = /^ExecStart=(.*)$/m.exec(text)![1];
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      i++;
      continue;
    }
    let w = '';
    while (i < line.length && line[i] !== ' ') {
      if (line[i] === '"') {
        i++;
        while (i < line.length && line[i] !== '"') {
          if (line[i] === '\\') i++;
          w += line[i++];
        }
        if (line[i] !== '"') throw new Error(`unbalanced quotes in ${line}`);
        i++;
      } else w += line[i++];
    }
    words.push(w.replace(/%%/g, '%').replace(/\$\$/g, '$'));
  }
  return words;
}

describe('float-base-containers templates with hostile values', () => {
  const out = render();
  const unit = readFileSync(out.unit, 'utf8');

  it('the unit passes systemd-analyze verify', () => {
    // verify also wants the command to exist: the same unit with podman swapped for echo.
    const dir = mkdtempSync(join(tmpdir(), 'float-verify-'));
    writeFileSync(join(dir, 'app-main.service'), unit.replaceAll('/usr/bin/podman', '/bin/echo'));
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, 'app-main.service')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/app-main\.service:\d+/);
    // Positive control: verify does report a line of this unit in that form.
    writeFileSync(join(dir, 'app-main.service'), unit.replaceAll('/usr/bin/podman', '/bin/echo').replace('[Service]\n', '[Service]\nBogusKey=1\n'));
    const bogus = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, 'app-main.service')], { encoding: 'utf8' });
    expect(bogus.stderr).toMatch(/app-main\.service:\d+: Unknown key 'BogusKey'/);
  });

  it('each pasted value is one literal argument', () => {
    const words = execStartWords(unit);
    expect(words).toContain(`${TMPFS}:rw,size=64m`);
    expect(words).toContain('/srv/a b$c:/mnt/x y%');
    expect(words).toContain('/etc/float/containers/app-main.env');
    const image = words.indexOf('registry.example.com/app:1');
    expect(image).toBeGreaterThan(0);
    // args are a command line: split into words, quotes group them, % and $ literal.
    expect(words.slice(image + 1)).toEqual(['/bin/sh', '-c', 'exec sleep 100', '50%', '$HOME']);
  });

  it('the env file reads back as exactly the values given (podman --env-file: KEY=value, literal to the end of the line)', () => {
    const lines = readFileSync(out.env, 'utf8').split('\n').filter((l) => l.trimStart() && !l.trimStart().startsWith('#'));
    const got = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')).trimStart(), l.slice(l.indexOf('=') + 1)]));
    expect(got).toEqual({ ...ENV, FLAG: 'true', NUM: '5' });
  });
});
