// Remembered processes (pid + start time): the rootfs build lock, whose dead owner's
// lock is taken over even when its pid names another live process, and the signals
// float env down sends to processes it saw earlier.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withLock } from '../../src/env/rootfs.js';
import { killIfSame, procRef, stillRunning } from '../../src/env/sys.js';

const quiet = () => {};

describe('rootfs build lock', () => {
  it('records pid and start time, and removes the lock afterwards', async () => {
    const lock = join(mkdtempSync(join(tmpdir(), 'float-lock-')), 'lock');
    const seen = await withLock(lock, quiet, async () => readFileSync(join(lock, 'pid'), 'utf8'));
    expect(seen).toBe(`${process.pid} ${procRef(process.pid)!.start}`);
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a lock whose pid now belongs to another process (start time differs)', async () => {
    const lock = join(mkdtempSync(join(tmpdir(), 'float-lock-')), 'lock');
    mkdirSync(lock);
    // A live pid (this very process) with a start time it never had: a dead owner whose pid was reused.
    writeFileSync(join(lock, 'pid'), `${process.pid} 1`);
    const t = Date.now();
    expect(await withLock(lock, quiet, async () => 'ran')).toBe('ran');
    expect(Date.now() - t).toBeLessThan(900); // no wait round
  });

  it('waits for a live owner, and runs once it is gone', async () => {
    const lock = join(mkdtempSync(join(tmpdir(), 'float-lock-')), 'lock');
    const child = spawn('sleep', ['2'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), `${child.pid} ${procRef(child.pid!)!.start}`);
    const logged: string[] = [];
    const t = Date.now();
    expect(await withLock(lock, (m) => logged.push(m), async () => 'ran')).toBe('ran');
    expect(Date.now() - t).toBeGreaterThan(1500);
    expect(logged.join('\n')).toContain(`waiting for another float process (pid ${child.pid})`);
  });
});

describe('signals to remembered processes', () => {
  it('killIfSame signals the process it remembered, never whoever has its pid now', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    const exited = new Promise((r) => child.once('exit', (_code, signal) => r(signal)));
    const ref = procRef(child.pid!)!;
    killIfSame({ pid: ref.pid, start: String(Number(ref.start) + 1) }, 'SIGKILL'); // "another process" with this pid
    await new Promise((r) => setTimeout(r, 200));
    expect(stillRunning(ref)).toBe(true);
    killIfSame(ref, 'SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(stillRunning(ref)).toBe(false);
  });
});
