// The compiled inventory on disk: byte-identical for the same input (also across
// processes), and replaced atomically: a failed write or a compile killed at any
// point leaves the previous inventory intact and readable by Ansible.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FloatUserError } from '../../src/config/diagnostics.js';
import { compile } from '../../src/compile.js';
import { deriveInventory } from '../../src/inventory/derive.js';
import { emitInventory, HEADER, inventoryFiles } from '../../src/inventory/emit.js';
import { plan } from '../../src/plan.js';
import { REPO_ROOT, baseTree, writeTree } from '../helpers/tree.js';

const CONFIG = baseTree({
  'group_vars/all.yml': 'domain: internal.example.com\ndomain_public: [example.com]\nnet_overlays: [{name: vpn0, network: 172.16.0.0/24}]\n',
  'services.yml': [
    `include: ${REPO_ROOT}/services.default.yml`,
    'web:',
    '  scheduling_group: backend',
    '  num_instances: 1',
    '  master_election: true',
    '  service_credentials: [{name: web}]',
    '  containers: [{name: http, image: "localhost/web:1", port: 8080}]',
    '  public_endpoints: [{name: www, port: 8080, scheme: http}]',
    '',
  ].join('\n'),
});

/** The same configuration with one more host: a different inventory. */
const CHANGED = { ...CONFIG, 'hosts.yml': `${CONFIG['hosts.yml']}  host4:\n    ips: [10.0.0.4]\n    ip_vpn0: 172.16.0.4\n    groups: [backend]\n` };

function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

function ansibleHosts(dir: string): string[] {
  const inv = JSON.parse(execFileSync('ansible-inventory', ['-i', dir, '--list'], { encoding: 'utf8', env: { ...process.env, ANSIBLE_INVENTORY_ENABLED: 'yaml' } }));
  return Object.keys(inv._meta.hostvars).sort();
}

/** Runs a compile of `configDir` in a child process that SIGKILLs itself after writing `killAfter` files. */
function killedCompile(configDir: string, out: string, killAfter: number): ReturnType<typeof spawnSync> {
  const script = join(writeTree({}), 'kill.ts');
  writeFileSync(
    script,
    [
      `import { deriveInventory } from ${JSON.stringify(join(REPO_ROOT, 'src/inventory/derive.ts'))};`,
      `import { emitInventory } from ${JSON.stringify(join(REPO_ROOT, 'src/inventory/emit.ts'))};`,
      `import { plan } from ${JSON.stringify(join(REPO_ROOT, 'src/plan.ts'))};`,
      `const p = plan(${JSON.stringify(join(configDir, 'config.yml'))});`,
      'let n = 0;',
      `emitInventory(deriveInventory(p.model, p.schedule), ${JSON.stringify(out)}, {`,
      `  afterWrite: () => { if (++n === ${killAfter}) process.kill(process.pid, 'SIGKILL'); },`,
      '});',
      "console.log('not killed');",
    ].join('\n'),
  );
  return spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, encoding: 'utf8' });
}

describe('deterministic output', () => {
  it('compiling twice gives byte-identical files, in place, elsewhere, and in another process', () => {
    const dir = writeTree(CONFIG);
    const first = compile(join(dir, 'config.yml'));
    const a = readTree(first.outDir);
    expect(Object.keys(a).length).toBeGreaterThan(6);
    compile(join(dir, 'config.yml'));
    expect(readTree(first.outDir)).toEqual(a);
    expect(readTree(compile(join(dir, 'config.yml'), { out: join(dir, 'other') }).outDir)).toEqual(a);
    const p = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/float.mjs'), 'compile', '--config', join(dir, 'config.yml'), '--out', join(dir, 'cli')], {
      encoding: 'utf8',
    });
    expect(p.status).toBe(0);
    expect(readTree(join(dir, 'cli'))).toEqual(a);
    // Byte for byte, not only as parsed text.
    for (const f of Object.keys(a)) expect(readFileSync(join(dir, 'cli', f)).equals(readFileSync(join(first.outDir, f)))).toBe(true);
  });
});

describe('atomic replacement', () => {
  it('a failed write leaves the previous inventory intact, with nothing left behind', () => {
    const dir = writeTree(CONFIG);
    const first = compile(join(dir, 'config.yml'));
    const before = readTree(first.outDir);
    const p = plan(join(writeTree(CHANGED), 'config.yml'));
    let n = 0;
    expect(() =>
      emitInventory(deriveInventory(p.model, p.schedule), first.outDir, {
        afterWrite: () => {
          if (++n === 3) throw new Error('disk full');
        },
      }),
    ).toThrow('disk full');
    expect(readTree(first.outDir)).toEqual(before);
    expect(readdirSync(join(dir, '.float')).filter((e) => e !== 'inventory')).toHaveLength(1); // the live version only
    expect(ansibleHosts(first.outDir)).toEqual(['host1', 'host2', 'host3']);
  });

  for (const when of ['first', 'middle', 'last'] as const) {
    it(`a compile killed after writing its ${when} file leaves the previous inventory intact; the next compile cleans up`, () => {
      const dir = writeTree(CONFIG);
      const first = compile(join(dir, 'config.yml'));
      const before = readTree(first.outDir);
      const changedDir = writeTree(CHANGED);
      // The files the killed process writes: the inventory's own (compile adds the dashboard archive).
      const cp = plan(join(changedDir, 'config.yml'));
      const total = inventoryFiles(deriveInventory(cp.model, cp.schedule)).size;
      const killAfter = when === 'first' ? 1 : when === 'middle' ? Math.floor(total / 2) : total;
      const child = killedCompile(changedDir, first.outDir, killAfter);
      expect(child.signal).toBe('SIGKILL');
      expect(child.stdout).toBe('');
      // The killed compile's partial tree is there, but `inventory` still names the old one.
      expect(readdirSync(join(dir, '.float')).length).toBe(3);
      expect(readTree(first.outDir)).toEqual(before);
      expect(ansibleHosts(first.outDir)).toEqual(['host1', 'host2', 'host3']);
      // The next compile replaces it and removes what the dead one left.
      writeFileSync(join(dir, 'hosts.yml'), CHANGED['hosts.yml']);
      compile(join(dir, 'config.yml'));
      expect(ansibleHosts(first.outDir)).toEqual(['host1', 'host2', 'host3', 'host4']);
      expect(readdirSync(join(dir, '.float')).length).toBe(2);
    });
  }

  it('leftovers of a compile still running are not touched', () => {
    const dir = writeTree(CONFIG);
    const out = join(dir, '.float/inventory');
    const busy = join(dir, `.float/.inventory.${process.ppid}-abc123`);
    mkdirSync(busy, { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const stale = join(dir, `.float/.inventory.${dead.stdout.trim()}-def456`);
    mkdirSync(stale);
    compile(join(dir, 'config.yml'));
    expect(existsSync(busy)).toBe(true);
    expect(existsSync(stale)).toBe(false);
    expect(lstatSync(out).isSymbolicLink()).toBe(true);
  });

  it('an inventory directory from before the link layout is replaced once, then links are swapped', () => {
    const dir = writeTree(CONFIG);
    const out = join(dir, '.float/inventory');
    mkdirSync(join(out, 'host_vars'), { recursive: true });
    writeFileSync(join(out, 'hosts.yml'), `${HEADER}all: {}\n`);
    writeFileSync(join(out, 'host_vars/gone.yml'), 'x: 1\n');
    compile(join(dir, 'config.yml'));
    expect(lstatSync(out).isSymbolicLink()).toBe(true);
    expect(existsSync(join(out, 'host_vars/gone.yml'))).toBe(false);
    expect(ansibleHosts(out)).toEqual(['host1', 'host2', 'host3']);
    expect(readdirSync(join(dir, '.float')).length).toBe(2);
  });

  it('--out naming a directory float did not write is refused, and left alone', () => {
    const dir = writeTree({ ...CONFIG, 'mine/notes.txt': 'keep me\n' });
    expect(() => compile(join(dir, 'config.yml'), { out: join(dir, 'mine') })).toThrow(FloatUserError);
    expect(readFileSync(join(dir, 'mine/notes.txt'), 'utf8')).toBe('keep me\n');
    expect(readdirSync(dir).filter((e) => e.startsWith('.mine'))).toEqual([]);
  });
});
