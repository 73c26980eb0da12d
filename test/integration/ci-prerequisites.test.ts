// A test whose prerequisite is missing is skipped and counted in the run's summary;
// under FLOAT_E2E_REQUIRED=1 (CI) it fails the run instead. Runs a nested vitest on
// a fixture test file with the project's reporters.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/tree.js';

function vitest(env: Record<string, string>): { status: number; out: string } {
  const r = spawnSync(
    process.execPath,
    [join(REPO_ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--root', REPO_ROOT, '--config', 'test/fixtures/prerequisites/vitest.config.ts'],
    { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, FLOAT_E2E_REQUIRED: '', NO_COLOR: '1', ...env } },
  );
  return { status: r.status ?? 1, out: r.stdout + r.stderr };
}

describe('tests whose prerequisites are missing', () => {
  it('are skipped with the reason, and the run prints how many were skipped', () => {
    const r = vitest({});
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('skipping the fixture test: the fixture prerequisite is missing');
    expect(r.out).toMatch(/^skipped: 1 of 2 tests:$/m);
    expect(r.out).toMatch(/^ {2}test\/fixtures\/prerequisites\/missing\.check\.ts: 1$/m);
  });

  it('fail the run under FLOAT_E2E_REQUIRED=1', () => {
    const r = vitest({ FLOAT_E2E_REQUIRED: '1' });
    expect(r.status, r.out).not.toBe(0);
    expect(r.out).toContain('the fixture test cannot run here: the fixture prerequisite is missing (FLOAT_E2E_REQUIRED=1');
  });

  it('.ci/run sets FLOAT_E2E_REQUIRED=1 and runs exactly npm test', () => {
    const ci = readFileSync(join(REPO_ROOT, '.ci/run'), 'utf8');
    expect(ci).toMatch(/^export FLOAT_E2E_REQUIRED=1$/m);
    expect(ci).toMatch(/^exec npm test$/m);
  });
});
