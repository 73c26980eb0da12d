// One float process at a time per configuration: `float run`, `float
// init-credentials` and `float compile` hold an exclusive lock on
// `.float/lock` next to config.yml for all they do (compile, credentials,
// ansible-playbook). Two operators at once would otherwise interleave writes to
// credentials_dir (a certificate that does not match its key, a CA key that
// does not match ca.pem) and to the inventory.
//
// The lock is flock(2) on the open file, taken by util-linux's flock(1) on a
// descriptor this process passes it: the lock belongs to the open file
// description, so it stays held after flock(1) exits, for as long as this
// process keeps the file open, and the kernel releases it when this process
// ends, however it ends. A holder that crashed or was killed leaves at most a
// stale file, which the next command locks at once and takes over. The file
// records who holds it (pid, process start time, command, since when), so a
// second invocation can name the holder; the pid and start time tell whether
// that record is current (a pid alone may have been reused by another
// process). A holder removes the file before releasing it; whoever then gets
// the lock on the removed file notices (its inode is no longer the path's) and
// starts over.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { FloatUserError } from './config/diagnostics.js';
import { procRef, stillRunning } from './env/sys.js';

/** The exit status of a command refused with --no-wait because another one holds the lock (EX_TEMPFAIL). */
const LOCKED_EXIT_CODE = 75;

export interface LockHolder {
  pid: number;
  /** Start time of the process (clock ticks after boot), with pid: which process it was. */
  start?: string;
  command: string;
  /** ISO 8601 time the lock was taken. */
  since: string;
  user?: string;
  host: string;
}

/** --no-wait found the lock taken: a user-facing error with its own exit status. */
class ConfigLockedError extends FloatUserError {
  readonly exitCode = LOCKED_EXIT_CODE;
}

function lockPath(configPath: string): string {
  return join(dirname(resolve(configPath)), '.float', 'lock');
}

/** "pid 123 (float run site.yml, user alice) since 2026-…": who holds the lock, as recorded. */
function describeHolder(h: LockHolder | undefined): string {
  if (!h) return 'another float process (it has not recorded itself yet)';
  const who = [h.command, h.user ? `user ${h.user}` : undefined, h.host !== hostname() ? `on ${h.host}` : undefined].filter(Boolean).join(', ');
  return `pid ${h.pid} (${who}) since ${h.since}`;
}

/** The holder recorded in the lock file, if the record is complete. */
function readHolder(file: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    return Number.isInteger(h.pid) && typeof h.command === 'string' && typeof h.since === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

/** flock(1) on descriptor fd, without waiting: 'locked', 'busy', or an error. */
function flockNow(fd: number): 'locked' | 'busy' {
  const r = spawnSync('flock', ['-xn', '3'], { stdio: ['ignore', 'ignore', 'pipe', fd], encoding: 'utf8' });
  return flockResult(r.error, r.status, r.stderr);
}

function flockResult(error: Error | undefined, status: number | null, stderr: string): 'locked' | 'busy' {
  if ((error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new FloatUserError('cannot lock the configuration: flock(1) not found (on Debian it is in util-linux)', 'F3013');
  }
  if (error) throw new FloatUserError(`cannot lock the configuration: ${error.message}`, 'F3013');
  if (status === 0) return 'locked';
  if (status === 1) return 'busy';
  throw new FloatUserError(`cannot lock the configuration: flock failed (${stderr.trim() || `exit ${status}`})`, 'F3013');
}

/** flock(1) on descriptor fd, waiting as long as it takes. */
function flockWait(fd: number): Promise<'locked' | 'busy'> {
  return new Promise((res, rej) => {
    const child = spawn('flock', ['-x', '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => {
      try {
        res(flockResult(e, null, stderr));
      } catch (err) {
        rej(err);
      }
    });
    child.on('close', (code) => {
      try {
        res(flockResult(undefined, code, stderr));
      } catch (err) {
        rej(err);
      }
    });
  });
}

export interface LockOptions {
  /** The command, as the holder's record shows it (no secrets: not the whole argv). */
  command: string;
  /** Fail at once (ConfigLockedError) instead of waiting when another process holds the lock. */
  noWait?: boolean;
  /** Where waiting is announced. */
  log?: (msg: string) => void;
}

/** Runs fn holding the configuration's lock; waits for (or with noWait refuses) another holder. */
export async function withConfigLock<T>(configPath: string, opts: LockOptions, fn: () => Promise<T> | T): Promise<T> {
  // No configuration, nothing to protect: fn reports the missing file.
  if (!existsSync(configPath)) return fn();
  const file = lockPath(configPath);
  const fd = await acquire(file, opts);
  try {
    const me: LockHolder = {
      pid: process.pid,
      start: procRef(process.pid)?.start,
      command: opts.command,
      since: new Date().toISOString(),
      user: safeUser(),
      host: hostname(),
    };
    writeSync(fd, JSON.stringify(me) + '\n', 0);
    return await fn();
  } finally {
    // Removed while still held, then released: a process waiting on this file finds
    // it unlinked once it gets the lock, and starts over on a new one (acquire).
    // Nothing is left behind, so a command that failed wrote nothing.
    try {
      unlinkSync(file);
      rmdirSync(dirname(file)); // .float, when this created it and nothing else is in it
    } catch {
      // .float holds the inventory, or another process is creating the lock right now
    }
    closeSync(fd); // releases the lock
  }
}

/** Opens and locks the lock file; returns its descriptor once this process holds it. */
async function acquire(file: string, opts: LockOptions): Promise<number> {
  let announced: number | undefined;
  for (;;) {
    let fd: number;
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      fd = openSync(file, constants.O_RDWR | constants.O_CREAT, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // .float removed by a holder leaving
      throw new FloatUserError(`cannot lock the configuration: ${file}: ${(err as Error).message}`, 'F3013');
    }
    try {
      if (flockNow(fd) === 'busy') {
        const holder = currentHolder(file);
        if (opts.noWait) {
          throw new ConfigLockedError(
            `${dirname(dirname(file))} is in use by ${describeHolder(holder)}; not waiting (--no-wait). The lock is ${file}: it is released when that process ends`,
            'F3012',
          );
        }
        if (announced === undefined || (holder && holder.pid !== announced)) {
          (opts.log ?? ((m) => process.stderr.write(m + '\n')))(`float: waiting for ${describeHolder(holder)}, which holds ${file}`);
          announced = holder?.pid ?? 0;
        }
        if ((await flockWait(fd)) !== 'locked') throw new FloatUserError(`cannot lock the configuration: ${file}`, 'F3013');
      }
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    // Locked: but is it still the file at that path? (The holder before may have removed it.)
    let same = false;
    try {
      same = statSync(file).ino === fstatSync(fd).ino;
    } catch {
      // removed
    }
    if (same) {
      ftruncateSync(fd, 0);
      return fd;
    }
    closeSync(fd);
  }
}

/**
 * The recorded holder, read a few times while the record is being written (the
 * holder writes it right after taking the lock). A record of a process that no
 * longer runs (a holder that died before clearing it, while another process
 * took the lock and has not recorded itself yet) is not shown as the holder.
 */
function currentHolder(file: string): LockHolder | undefined {
  for (let i = 0; i < 20; i++) {
    const h = readHolder(file);
    if (h && (h.host !== hostname() || !h.start || stillRunning({ pid: h.pid, start: h.start }))) return h;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
  }
  return undefined;
}

function safeUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}
