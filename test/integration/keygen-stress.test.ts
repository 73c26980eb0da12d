// Key generation under garbage-collection pressure. Exporting a freshly generated
// KeyObject as JWK once deadlocked Node's crypto for good (the export holds the
// key's mutex while allocating; the collection it triggers destroys the finished
// key-generation job, whose destructor waits on that mutex): reproduced here with
// 30,000 P-256 keys, a 1 MB young generation and a gc() every 1,000 keys, which
// never finished. A deadlock shows as the child process timing out.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/tree.js';

it('issues 20,000 certificates and 5,000 SSH keys under forced GC pressure without stalling', () => {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--max-semi-space-size=1', '--max-old-space-size=96', '--import', 'tsx', join(REPO_ROOT, 'test/helpers/keygen-stress.ts'), '20000'],
    { cwd: REPO_ROOT, encoding: 'utf8', timeout: 240_000, killSignal: 'SIGKILL' },
  );
  expect(r.signal, `stalled (killed after 240 s): ${r.stderr}`).toBeNull();
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^issued 20000 certificates and 5000 ed25519 keys \(\d+ bytes of PEM\)/);
}, 300_000);
