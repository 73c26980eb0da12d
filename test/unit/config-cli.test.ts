// `float check` through the real CLI (bin/float.mjs): one positioned line per
// problem on stderr, exit code 2 for user mistakes, never a stack trace.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, baseTree, writeTree } from '../helpers/tree.js';

interface Run {
  code: number;
  stdout: string;
  /** stderr lines, without the trailing empty one. */
  errors: string[];
}

/** Runs `float check --config config.yml` in a fresh fixture directory (so paths print relative). */
function check(files: Record<string, string>, opts: { base?: boolean; config?: string } = {}): Promise<Run> {
  const dir = writeTree(opts.base === false ? files : baseTree(files));
  const bin = join(REPO_ROOT, 'bin/float.mjs');
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, 'check', '--config', opts.config ?? 'config.yml'], { cwd: dir }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, errors: stderr.split('\n').filter((l) => l !== '') });
    });
  });
}

function expectNoStackTrace(r: Run): void {
  expect(r.errors.join('\n')).not.toMatch(/^\s+at |internal error/m);
}

describe.concurrent('float check (CLI)', { timeout: 60_000 }, () => {
  it('prints ok: N services, M hosts and exits 0', async () => {
    const r = await check({ 'services.yml': 'web:\n  scheduling_group: backend\napi:\n  scheduling_group: frontend\n' });
    expect(r).toEqual({ code: 0, stdout: 'ok: 2 services, 3 hosts\n', errors: [] });
  });

  it('malformed YAML: one positioned error, exit 2', async () => {
    const r = await check({ 'services.yml': 'web:\n  ports: [1, 2\n' });
    expect(r.code).toBe(2);
    expect(r.errors).toHaveLength(2);
    expect(r.errors[0]).toMatch(/^services\.yml:3:1: error: YAML syntax error: .+ \[F1000\]$/);
    expect(r.errors[1]).toBe('1 error');
    expectNoStackTrace(r);
  });

  it('a missing file: one error at the attribute naming it, exit 2', async () => {
    const r = await check({ 'config.yml': 'plugin: float\nservices_file: nothere.yml\n' });
    expect(r).toEqual({
      code: 2,
      stdout: '',
      errors: ['config.yml:2:16: error: cannot read nothere.yml: no such file [F1005]', '1 error'],
    });
  });

  it('a missing config.yml: one error, exit 2', async () => {
    const r = await check({ 'services.yml': 'a: {}\n' }, { base: false, config: 'nope/config.yml' });
    expect(r).toEqual({ code: 2, stdout: '', errors: ['error: cannot read nope/config.yml: no such file [F1005]', '1 error'] });
  });

  it('an include cycle: one positioned error, exit 2', async () => {
    const r = await check({ 'services.yml': 'include: a.yml\n', 'a.yml': 'include:\n  - services.yml\n' });
    expect(r.code).toBe(2);
    expect(r.errors).toEqual(['a.yml:2:5: error: include cycle: services.yml -> a.yml -> services.yml [F1006]', '1 error']);
  });

  it('a wrong type at depth: public_endpoints[0].port: "abc", exit 2', async () => {
    const r = await check({ 'services.yml': 'web:\n  public_endpoints:\n    - name: web\n      port: "abc"\n' });
    expect(r).toEqual({
      code: 2,
      stdout: '',
      errors: ['services.yml:4:13: error: web.public_endpoints[0].port: expected number, got string "abc" [F1002]', '1 error'],
    });
  });

  it('every error in one run, sorted by file and position, scheduler errors included', async () => {
    const r = await check({
      'services.yml': 'include: inc.yml\nweb:\n  scheduling_group: backend\n  num_instances: 5\n',
      'inc.yml': 'other:\n  bogus: 1\n',
    });
    expect(r.code).toBe(2);
    expect(r.errors.map((l) => l.replace(/: error: .* \[/, ' ['))).toEqual([
      'inc.yml:2:3 [F1001]',
      'services.yml:4:18 [F2004]',
      '2 errors',
    ]);
    const s = await check({ 'services.yml': 'web:\n  scheduling_group: backend\n  num_instances: 5\nx:\n  schedule_with: nobody\n' });
    expect(s.code).toBe(2);
    expect(s.errors.map((l) => l.replace(/: error: .* \[/, ' ['))).toEqual([
      'services.yml:3:18 [F2004]',
      'services.yml:5:18 [F2005]',
      '2 errors',
    ]);
  });

  it('the reference example configurations pass', async () => {
    const r = await check({}, { base: false, config: join(REPO_ROOT, 'test/fixtures/reference/simple-http/config.yml') });
    expect(r).toEqual({ code: 0, stdout: 'ok: 7 services, 1 hosts\n', errors: [] });
  });
});
