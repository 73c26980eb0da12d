// One compile (load -> schedule -> derive -> emit, no credentials) of a generated
// configuration, in its own process so peak memory is this compile's alone.
// Prints one JSON line: {hosts, services, instances, ms, peakMB, outputMB, files}.
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from '../src/compile.js';
import { generateConfig } from './gen-config.js';

function treeSize(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const st = statSync(p);
    n += st.isDirectory() ? treeSize(p) : st.size;
  }
  return n;
}

function peakRssMB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
}

const [hosts, services] = process.argv.slice(2).map(Number);
const dir = generateConfig(hosts, services);
const t0 = performance.now();
const r = compile(join(dir, 'config.yml'));
const ms = performance.now() - t0;
const instances = Object.values(r.plan.schedule.assignments).reduce((a, h) => a + h.length, 0);
const out = {
  hosts,
  services,
  instances,
  ms: Math.round(ms),
  peakMB: Math.round(peakRssMB()),
  outputMB: +(treeSize(r.outDir) / 2 ** 20).toFixed(1),
  files: r.files,
};
rmSync(dir, { recursive: true, force: true });
process.stdout.write(JSON.stringify(out) + '\n');
