// CLI start-up benchmark: wall-clock time of whole `float` invocations, as an
// operator (or the float-base-ssh role) starts them: node bin/float.mjs, running
// the JavaScript built into dist/. Targets (issue "the CLI starts instantly"):
// `float --help` <= 0.2 s, `float check` on the demo configuration <= 0.4 s,
// `float schedule` on 1000 hosts x 200 services <= 1 s end to end. The figure is
// the median of several runs; the same commands run from the TypeScript sources
// (FLOAT_FROM_SOURCE=1, tsx) once each, for comparison. Wall-clock times depend
// on the machine's load, printed with them, so the CPU time of each invocation is
// printed too; these are figures, never test assertions.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoConfig } from './demo-config.js';
import { generateConfig } from './gen-config.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const FLOAT = join(root, 'bin', 'float.mjs');

/** CPU seconds (user + system) of this process's waited-for children so far: cutime and cstime of /proc/self/stat. */
function childrenCpu(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of stat(5), counted here from field 3 (state).
  return (Number(fields[13]) + Number(fields[14])) / TICKS;
}
const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Runs float once; returns its wall-clock and CPU time in seconds. Fails loudly when the command fails. */
function timeFloat(args: string[], env: Record<string, string> = {}): { wall: number; cpu: number } {
  const c0 = childrenCpu();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [FLOAT, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 256 * 2 ** 20 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`float ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return { wall, cpu: childrenCpu() - c0 };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function benchCli(): Promise<void> {
  const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('node scripts/build.mjs failed');
  const demo = demoConfig('float-bench-cli-');
  const fleet = generateConfig(1000, 200);
  const cases: Array<{ label: string; args: string[]; runs: number; target: number }> = [
    { label: 'float --help', args: ['--help'], runs: 7, target: 0.2 },
    { label: 'float check (demo, 3 hosts)', args: ['check', '--config', demo], runs: 7, target: 0.4 },
    { label: 'float schedule (1000 hosts x 200 services)', args: ['schedule', '--config', join(fleet, 'config.yml')], runs: 5, target: 1 },
  ];
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`\n== cli (node bin/float.mjs, built JavaScript; median of N runs; load average ${load} on ${cpus().length} CPUs) ==`);
  console.log('The target is on wall-clock time; CPU time (user + system) is about what it would show on an idle machine.');
  console.log('command                                       N      wall  (min)        cpu   target  verdict  from source (tsx): wall, cpu');
  try {
    for (const c of cases) {
      timeFloat(c.args); // warm the file cache
      const runs = Array.from({ length: c.runs }, () => timeFloat(c.args));
      const wall = median(runs.map((r) => r.wall));
      const cpu = median(runs.map((r) => r.cpu));
      const src = timeFloat(c.args, { FLOAT_FROM_SOURCE: '1' });
      const verdict = wall <= c.target ? 'PASS' : 'FAIL';
      const f = (x: number) => `${x.toFixed(3)} s`;
      console.log(
        `${c.label.padEnd(44)} ${String(c.runs).padStart(2)}  ${f(wall).padStart(8)} (${f(Math.min(...runs.map((r) => r.wall)))})  ${f(cpu).padStart(8)}  <= ${c.target.toFixed(1)} s  ${verdict.padEnd(7)}  ${f(src.wall)}, ${f(src.cpu)}`,
      );
    }
  } finally {
    rmSync(dirname(dirname(demo)), { recursive: true, force: true });
    rmSync(fleet, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await benchCli();
