// The CLI as an operator starts it (bin/float.mjs, built JavaScript): which modules
// an invocation loads, and that every command's --help ends with examples.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { REPO_ROOT } from '../helpers/tree.js';

const FLOAT = join(REPO_ROOT, 'bin/float.mjs');
const TRACE = join(REPO_ROOT, 'test/helpers/trace-imports.mjs');

function float(args: string[]): { status: number; out: string } {
  const r = spawnSync(process.execPath, [FLOAT, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status ?? 1, out: r.stdout + r.stderr };
}

/** The float-owned modules (relative to the repository) and the packages an invocation loads. */
function loaded(args: string[]): { own: string[]; packages: Set<string> } {
  const file = join(mkdtempSync(join(tmpdir(), 'float-trace-')), 'modules');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(TRACE).href, FLOAT, ...args], {
    encoding: 'utf8',
    env: { ...process.env, FLOAT_TRACE_IMPORTS: file },
  });
  expect(r.status, r.stderr).toBe(0);
  const root = pathToFileURL(REPO_ROOT).href + '/';
  const urls = readFileSync(file, 'utf8').split('\n').filter((u) => u.startsWith(root));
  const rel = urls.map((u) => u.slice(root.length));
  const packages = new Set(rel.filter((u) => u.startsWith('node_modules/')).map((u) => u.split('/')[1]));
  return { own: rel.filter((u) => !u.startsWith('node_modules/')), packages };
}

describe('float start-up', () => {
  it('runs the built JavaScript, and --help loads no command module', () => {
    const { own, packages } = loaded(['--help']);
    expect(own).toContain('dist/cli/main.js');
    expect(own.filter((m) => m.startsWith('src/'))).toEqual([]);
    // Positive control: the package probe sees what every start imports.
    expect(packages.has('commander')).toBe(true);
    expect(packages.has('tsx')).toBe(false);
    const commandModules = own.filter((m) => m.startsWith('dist/cli/') && m !== 'dist/cli/main.js' && m !== 'dist/cli/commands.js');
    expect(commandModules).toEqual([]);
    for (const heavy of ['zod', 'yaml', 'ip-num', 'nunjucks']) expect(packages.has(heavy), heavy).toBe(false);
  });

  it('a command loads its own module only', () => {
    const { own, packages } = loaded(['dns', '--help']);
    expect(own).toContain('dist/cli/dns.js');
    const others = COMMANDS.filter((c) => c.name !== 'dns').map((c) => `dist/cli/${c.name}.js`);
    expect(own.filter((m) => others.includes(m))).toEqual([]);
    expect(own.filter((m) => m.startsWith('dist/credentials/') || m.startsWith('dist/env/') || m.startsWith('dist/ansible/'))).toEqual([]);
    expect(packages.has('commander')).toBe(true);
    expect(packages.has('nunjucks')).toBe(false);
  });
});

describe('float --help', () => {
  const examples = (out: string): string[] => {
    const at = out.indexOf('\nExamples:\n');
    if (at < 0) return [];
    return out
      .slice(at + '\nExamples:\n'.length)
      .split('\n')
      .filter((l) => l.startsWith('  $ '))
      .map((l) => l.slice(4));
  };

  it('lists every command, with examples', () => {
    const r = float(['--help']);
    expect(r.status).toBe(0);
    for (const c of COMMANDS) expect(r.out).toMatch(new RegExp(`^  ${c.name} `, 'm'));
    expect(examples(r.out).length).toBeGreaterThan(0);
  });

  const cases: string[][] = COMMANDS.flatMap((c) => [[c.name], ...Object.keys(c.subcommandExamples ?? {}).map((s) => [c.name, s])]);
  it.each(cases.map((c) => [c.join(' '), c]))('float %s --help ends with an example of that command', (_label, words) => {
    const r = float([...(words as string[]), '--help']);
    expect(r.status, r.out).toBe(0);
    const lines = examples(r.out);
    expect(lines.length, r.out).toBeGreaterThan(0);
    for (const l of lines) expect(l.startsWith(`float ${(words as string[]).join(' ')}`) || l.includes(`| float ${(words as string[]).join(' ')}`), l).toBe(true);
  });

  it('every command module in src/cli is listed (an unlisted one could not be run)', () => {
    const modules = readdirSync(join(REPO_ROOT, 'src/cli'))
      .filter((f) => f.endsWith('.ts') && !['main.ts', 'commands.ts', 'options.ts'].includes(f))
      .map((f) => f.slice(0, -3));
    expect(modules.sort()).toEqual(COMMANDS.map((c) => c.name).sort());
  });

  it('every subcommand of env has examples', () => {
    const r = float(['env', '--help']);
    const listed = [...r.out.matchAll(/^  ([a-z-]+) /gm)].map((m) => m[1]).filter((n) => n !== 'help');
    const env = COMMANDS.find((c) => c.name === 'env');
    expect(listed.sort()).toEqual(Object.keys(env?.subcommandExamples ?? {}).sort());
  });

  it('float help NAME is NAME --help', () => {
    expect(float(['help', 'schedule']).out).toBe(float(['schedule', '--help']).out);
  });
});

describe('output to a reader that stops early', () => {
  it('ends quietly, without a stack trace', () => {
    // `true` exits before float starts writing: every write finds the pipe closed.
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${FLOAT}" --help | true`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('float run flags agree with the other commands', () => {
  // No configuration in the directory: the error names the configuration float read.
  const runIn = (args: string[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'float-run-flags-'));
    const r = spawnSync(process.execPath, [FLOAT, 'run', ...args], { cwd: dir, encoding: 'utf8' });
    return { status: r.status ?? 1, out: r.stdout + r.stderr };
  };
  it('-c names the configuration', () => {
    const r = runIn(['-c', 'elsewhere/config.yml', 'init-credentials']);
    expect(r.status).toBe(2);
    expect(r.out).toMatch(/elsewhere\/config\.yml.*\[F1005\]/);
  });
  it('after --, -c is ansible-playbook\'s and the configuration stays config.yml', () => {
    const r = runIn(['init-credentials', '--', '-c', 'local']);
    expect(r.status).toBe(2);
    expect(r.out).toMatch(/config\.yml.*\[F1005\]/);
    expect(r.out).not.toMatch(/local.*\[F1005\]/);
  });
  it('after --, -i is still refused', () => {
    const r = runIn(['init-credentials', '--', '-i', 'hosts']);
    expect(r.status).toBe(2);
    expect(r.out).toMatch(/-i is not allowed/);
  });
});
