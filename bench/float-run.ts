// `float run` benchmark (issue "float run as fast as the work it does"): boots the
// demo's 3 local test hosts (a frontend, two backends; `float create-env --local`
// with examples/demo, as `npm run demo` does), then times
//   - the first `float run site.yml` on the freshly booted hosts (target <= 60 s),
//   - a run that changes nothing (target <= 20 s), with the strategy float run picks
//     (mitogen_linear when ansible-mitogen is installed) and again with Ansible's
//     linear, for comparison,
//   - `float compile` on the unchanged configuration: the compile + credentials part
//     of every run (target <= 1 s),
// and prints Ansible's per-task and per-role profile of the no-change run (the
// ansible.posix profile_tasks and profile_roles callbacks), the top 10 tasks first,
// and the host tasks run and skipped (the play recap's sums: a measure of the work
// that does not depend on the machine's load).
// Needs root (network namespaces, systemd-nspawn); skipped with a message otherwise.
// Figures depend on the machine's load, printed with them; they are never asserted.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoConfig } from './demo-config.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const FLOAT = join(root, 'bin', 'float.mjs');

interface Timed {
  wall: number;
  out: string;
}

function float(args: string[], env: Record<string, string> = {}, cwd?: string): Timed {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [FLOAT, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_NOCOLOR: '1', ...env },
    maxBuffer: 256 * 2 ** 20,
  });
  const wall = (performance.now() - t0) / 1000;
  const out = r.stdout + r.stderr;
  if (r.status !== 0) throw new Error(`float ${args.join(' ')} exited ${r.status}:\n${out.split('\n').slice(-40).join('\n')}`);
  return { wall, out };
}

interface Entry {
  name: string;
  seconds: number;
}

/**
 * The closing tables of the profile_tasks and profile_roles callbacks, after the play
 * recap: each starts with a line of "=", its entries read "NAME ------ 1.23s"; the
 * roles' table ends with a line of "~" and its total.
 */
export function profiles(out: string): { tasks: Entry[]; roles: Entry[] } {
  const recap = out.lastIndexOf('PLAY RECAP');
  const blocks = out.slice(recap < 0 ? 0 : recap).split(/^=+\s*$/m).slice(1);
  let tasks: Entry[] = [];
  let roles: Entry[] = [];
  for (const b of blocks) {
    const entries = [...b.matchAll(/^(.+?) -{2,} (\d+\.\d+)s$/gm)].map((m) => ({ name: m[1].trim(), seconds: Number(m[2]) }));
    if (/^~+\s*$/m.test(b)) roles = entries.filter((e) => e.name !== 'total');
    else tasks = entries;
  }
  return { tasks, roles };
}

/** The strategy float run reported ("float run: Ansible strategy X (...)"). */
const strategyOf = (out: string): string => /float run: Ansible strategy (\S+)/.exec(out)?.[1] ?? 'unknown';

/** Sums of the play recap's ok/changed/skipped over the hosts: a count of the work that does not depend on the load. */
export function hostTasks(out: string): { hosts: number; ok: number; changed: number; skipped: number } {
  const recap = out.slice(Math.max(0, out.lastIndexOf('PLAY RECAP')));
  const sum = { hosts: 0, ok: 0, changed: 0, skipped: 0 };
  for (const m of recap.matchAll(/^\S+\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=\d+\s+skipped=(\d+)/gm)) {
    sum.hosts += 1;
    sum.ok += Number(m[1]);
    sum.changed += Number(m[2]);
    sum.skipped += Number(m[3]);
  }
  return sum;
}

const PROFILE_ENV = {
  ANSIBLE_CALLBACKS_ENABLED: 'ansible.posix.profile_tasks,ansible.posix.profile_roles',
  // The whole list, not the default top 20, so the figures add up.
  PROFILE_TASKS_TASK_OUTPUT_LIMIT: 'all',
};

export async function benchFloatRun(): Promise<boolean | void> {
  console.log(`\n== float run (3 local test hosts: the demo; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} CPUs) ==`);
  if (process.getuid?.() !== 0) {
    console.log('skipped: needs root (network namespaces and systemd-nspawn boot the test hosts)');
    return;
  }
  const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('node scripts/build.mjs failed');
  const config = demoConfig('float-bench-run-');
  const dir = dirname(config);
  let up = false;
  try {
    const boot = float(['env', 'up', '--config', config]);
    up = true;
    float(['env', 'busybox-image', '--config', config]);
    const first = float(['run', '--config', config, 'site.yml'], PROFILE_ENV, dir);
    const again = float(['run', '--config', config, 'site.yml'], PROFILE_ENV, dir);
    // The same no-change run with Ansible's own strategy, for comparison (float run
    // picks ansible-mitogen's mitogen_linear when it is installed).
    const linear = float(['run', '--config', config, 'site.yml'], { ...PROFILE_ENV, ANSIBLE_STRATEGY: 'linear' }, dir);
    const compile = [0, 1, 2].map(() => float(['compile', '--config', config]).wall).sort((a, b) => a - b)[1];
    const changed = hostTasks(again.out).changed;
    const rows: Array<[string, number, number]> = [
      ['first run on freshly booted hosts', first.wall, 60],
      [`no-change run (changed=${changed}; ${strategyOf(again.out)})`, again.wall, 20],
      ['no-change run, strategy linear', linear.wall, 20],
      ['compile + credentials (float compile, median of 3)', compile, 1],
    ];
    console.log(`hosts booted in ${boot.wall.toFixed(1)} s`);
    let ok = true;
    for (const [label, wall, target] of rows) {
      const pass = wall <= target;
      ok &&= pass;
      console.log(`${label.padEnd(52)} ${`${wall.toFixed(1)} s`.padStart(8)}   <= ${target} s  ${pass ? 'PASS' : 'FAIL'}`);
    }
    for (const [name, run] of [['first run', first], ['no-change run', again]] as const) {
      const { tasks, roles } = profiles(run.out);
      const t = hostTasks(run.out);
      console.log(`\n${name}: ${t.ok} host tasks run (${t.changed} changed), ${t.skipped} skipped, over ${t.hosts} hosts`);
      console.log(`\n${name}: top 10 tasks of ${tasks.length} (seconds, summed over the hosts in parallel)`);
      for (const t of tasks.slice(0, 10)) console.log(`  ${t.seconds.toFixed(2).padStart(7)}  ${t.name}`);
      console.log(`${name}: time per role`);
      for (const r of roles) console.log(`  ${r.seconds.toFixed(2).padStart(7)}  ${r.name}`);
    }
    return ok;
  } finally {
    if (up) spawnSync(process.execPath, [FLOAT, 'env', 'down', '--config', config], { stdio: 'inherit' });
    rmSync(dirname(dir), { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if ((await benchFloatRun()) === false) process.exitCode = 1;
}
