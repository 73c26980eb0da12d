// Small system helpers shared by the local test environment modules: running
// commands, checking for root and for the tools float env drives, progress lines,
// and a few /proc readers (mounts, processes).
import { spawn } from 'node:child_process';
import { type Dirent, accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { FloatUserError } from '../config/diagnostics.js';

export type Log = (line: string) => void;

/** Progress lines go to stderr, prefixed so they are easy to tell from command output. */
export const stderrLog: Log = (line) => process.stderr.write(`float env: ${line}\n`);

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  cwd?: string;
  /** Kill the command after this many milliseconds. */
  timeoutMs?: number;
  /** Return a non-zero exit instead of throwing. */
  allowFail?: boolean;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion and collects its output; throws on failure unless allowFail. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, opts.timeoutMs);
    }
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => {});
      child.stdin!.end(opts.input);
    }
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const res: RunResult = {
        code: code ?? 128 + (signal ? 9 : 0),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + (timedOut ? `\n(killed after ${opts.timeoutMs} ms)` : ''),
      };
      if (res.code !== 0 && !opts.allowFail) {
        reject(new Error(`${cmd} ${args.join(' ')} failed (exit ${res.code}): ${res.stderr.trim() || res.stdout.trim()}`));
      } else {
        resolvePromise(res);
      }
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Finds an executable on PATH (plus the sbin directories, which a non-login root shell may lack). */
export function which(tool: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, tool);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** Tool -> the Debian package that provides it. */
const TOOL_PACKAGES: Record<string, string> = {
  debootstrap: 'debootstrap',
  'systemd-nspawn': 'systemd-container',
  ip: 'iproute2',
  iptables: 'iptables',
  ssh: 'openssh-client',
  'ssh-keygen': 'openssh-client',
  mount: 'mount',
  umount: 'mount',
  cp: 'coreutils',
  rm: 'coreutils',
};

/** Tools missing from this machine, with the package to install for each. */
export function missingTools(tools: string[]): { tool: string; pkg: string }[] {
  return tools.filter((t) => !which(t)).map((t) => ({ tool: t, pkg: TOOL_PACKAGES[t] ?? t }));
}

export function requireTools(tools: string[]): void {
  const missing = missingTools(tools);
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((m) => m.pkg))];
  throw new FloatUserError(
    `float env needs ${missing.map((m) => m.tool).join(', ')}, not found on this machine: install with 'apt-get install ${pkgs.join(' ')}'`,
    'F2041',
  );
}

export function requireRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new FloatUserError(
      'float env must run as root: it creates network namespaces, a bridge, overlay mounts and boots hosts with systemd-nspawn',
      'F2043',
    );
  }
}

/** Decodes the octal escapes (\040 and friends) of /proc/mounts fields. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export interface MountEntry {
  source: string;
  target: string;
  fstype: string;
  options: string;
}

export function readMounts(): MountEntry[] {
  const text = readFileSync('/proc/mounts', 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [source, target, fstype, options] = line.split(' ');
      return { source: unescapeMount(source), target: unescapeMount(target), fstype, options: unescapeMount(options ?? '') };
    });
}

export function isMountPoint(path: string): boolean {
  return readMounts().some((m) => m.target === path);
}

/** Mount points at or below path, deepest first (the order to unmount them in). */
function mountsUnder(path: string): string[] {
  const prefix = path.endsWith('/') ? path : path + '/';
  return [...new Set(readMounts().map((m) => m.target).filter((t) => t === path || t.startsWith(prefix)))].sort(
    (a, b) => b.length - a.length,
  );
}

/** Unmounts everything at or below path (lazily when busy). */
export async function unmountTree(path: string): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const targets = mountsUnder(path);
    if (targets.length === 0) return;
    for (const t of targets) {
      const r = await run('umount', [t], { allowFail: true });
      if (r.code !== 0) await run('umount', ['-l', t], { allowFail: true });
    }
  }
  const left = mountsUnder(path);
  if (left.length) throw new Error(`could not unmount ${left.join(', ')}`);
}

/** Deletes a directory tree without ever crossing into another filesystem. */
export async function removeTree(path: string): Promise<void> {
  if (!existsSync(path)) return;
  await unmountTree(path);
  await run('rm', ['-rf', '--one-file-system', path]);
}

/** True when the process exists and is not a zombie. */
export function processAlive(pid: number): boolean {
  return runningState(statFields(pid));
}

/** A process with these stat fields exists and is neither a zombie nor dead. */
function runningState(f: string[] | undefined): boolean {
  return f !== undefined && f[0] !== 'Z' && f[0] !== 'X';
}

export function processCmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

export function allPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** Parent pid of a process, or undefined when it is gone. */
function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** All descendants of pid (children, grandchildren, ...). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of allPids()) {
    const pp = parentPid(p);
    if (pp === undefined) continue;
    if (!children.has(pp)) children.set(pp, []);
    children.get(pp)!.push(p);
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length) {
    for (const c of children.get(todo.pop()!) ?? []) {
      out.push(c);
      todo.push(c);
    }
  }
  return out;
}

/** True when pid is PID 1 of its own PID namespace (a container's init, seen from outside). */
export function isNamespaceInit(pid: number): boolean {
  try {
    const m = /^NSpid:\t(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const ids = m ? m[1].trim().split(/\s+/) : [];
    return ids.length > 1 && ids[ids.length - 1] === '1';
  } catch {
    return false;
  }
}

/**
 * A process as it was seen: its pid and its start time (clock ticks after boot,
 * /proc/PID/stat field 22). A pid is reused once its process is gone (the pid
 * space here is 32768, and an Ansible run forks thousands), so a pid remembered
 * from earlier may name some other process by now: signals to remembered
 * processes go through killIfSame.
 */
export interface ProcRef {
  pid: number;
  start: string;
}

/** /proc/PID/stat from field 3 (state) on, or undefined when there is no such process. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

const startTime = (pid: number): string | undefined => statFields(pid)?.[19];

/** The process now running as pid, or undefined when there is none. */
export function procRef(pid: number): ProcRef | undefined {
  const start = startTime(pid);
  return start === undefined ? undefined : { pid, start };
}

/** The remembered process still runs (it has not exited; its pid has not gone to another). */
export function stillRunning(p: ProcRef): boolean {
  const f = statFields(p.pid); // read once: state and start time of the same process
  return runningState(f) && f![19] === p.start;
}

/** Signals a remembered process, and only that one: never whoever has its pid now. */
export function killIfSame(p: ProcRef, signal: NodeJS.Signals | number): void {
  if (startTime(p.pid) === p.start) killQuiet(p.pid, signal);
}

export function killQuiet(pid: number, signal: NodeJS.Signals | number): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

// ---- cgroups ---------------------------------------------------------------------------

/**
 * Directories of a cgroup of float env's own, one per mounted hierarchy:
 * <the float process's cgroup>/float-env/<leaf>. With --keep-unit and no systemd on
 * the machine, systemd-nspawn otherwise runs every container in the caller's cgroup
 * (payload/ of it), so the guests' systemds fight over identically named unit cgroups
 * ("Failed at step CGROUP", units failing at random when several hosts boot together),
 * and leaves payload/ and supervisor/ behind.
 */
export function ownCgroupDirs(leaf: string): string[] {
  let self = '';
  try {
    self = readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return [];
  }
  const mounts = readMounts().filter((m) => (m.fstype === 'cgroup' || m.fstype === 'cgroup2') && m.target.startsWith('/sys/fs/cgroup'));
  const dirs: string[] = [];
  for (const line of self.split('\n').filter(Boolean)) {
    const [, ctrls, path] = line.split(/:(.*?):/);
    if (path === undefined) continue;
    const mount =
      ctrls === ''
        ? mounts.find((m) => m.fstype === 'cgroup2')
        : mounts.find((m) => m.fstype === 'cgroup' && ctrls.split(',').every((c) => m.options.split(',').includes(c)));
    if (mount) dirs.push(join(mount.target, path, 'float-env', leaf));
  }
  return dirs;
}

/** Creates the cgroups (copying cpuset's cpus and mems down, which v1 leaves empty). */
export function createCgroups(dirs: string[]): void {
  for (const dir of dirs) {
    for (const d of [dirname(dir), dir]) {
      if (!existsSync(d)) mkdirSync(d);
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        const file = join(d, f);
        if (existsSync(file) && readFileSync(file, 'utf8').trim() === '') writeFileSync(file, readFileSync(join(dirname(d), f), 'utf8'));
      }
    }
  }
}

/** Pids still in a cgroup tree. */
function cgroupPids(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
      out.push(...readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number));
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(join(d, e.name));
  };
  walk(dir);
  return out;
}

/** Removes a cgroup tree (children first); its processes must be gone. */
function removeCgroupTree(dir: string): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeCgroupTree(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {
    // busy or gone
  }
}

export async function removeCgroups(dirs: string[]): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const left = dirs.flatMap(cgroupPids);
    for (const pid of left) killQuiet(pid, 'SIGKILL');
    if (left.length === 0) break;
    await sleep(100);
  }
  for (const dir of dirs) {
    removeCgroupTree(dir);
    try {
      rmdirSync(dirname(dir)); // float-env/, when no other host uses it
    } catch {
      // still in use
    }
  }
}

/** [command, args] that run cmd inside the cgroups dirs (a shell enters them, then becomes cmd: same pid). */
export function inCgroups(dirs: string[], cmd: string, args: string[]): [string, string[]] {
  if (dirs.length === 0) return [cmd, args];
  const enter = dirs.map((d) => `echo $$ 2>/dev/null > '${d.replace(/'/g, `'\\''`)}/cgroup.procs' || echo 'float env: could not enter cgroup ${d.replace(/'/g, '')}' >&2`).join('; ');
  return ['/bin/sh', ['-c', `${enter}; exec "$0" "$@"`, cmd, ...args]];
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
