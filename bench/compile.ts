// Compile benchmark: time, peak memory and output size for three fleet sizes.
// Targets (issue "Compile the Ansible inventory"): 1000 hosts x 200 services in
// under 5 s and under 1 GB.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export async function benchCompile(): Promise<void> {
  console.log('\n== compile (load -> schedule -> derive -> emit, no credentials) ==');
  console.log('hosts  services  instances      time   peak RSS   output   files   verdict');
  for (const [h, s] of [
    [100, 50],
    [300, 100],
    [1000, 200],
  ]) {
    const line = execFileSync(process.execPath, ['--import', 'tsx', join(here, 'compile-one.ts'), String(h), String(s)], {
      encoding: 'utf8',
    });
    const r = JSON.parse(line);
    const verdict = h === 1000 ? (r.ms < 5000 && r.peakMB < 1024 ? 'PASS (<5 s, <1 GB)' : 'FAIL (<5 s, <1 GB)') : '';
    console.log(
      `${String(r.hosts).padStart(5)}  ${String(r.services).padStart(8)}  ${String(r.instances).padStart(9)}  ${(r.ms / 1000).toFixed(2).padStart(7)} s  ${String(r.peakMB).padStart(6)} MB  ${String(r.outputMB).padStart(5)} MB  ${String(r.files).padStart(6)}   ${verdict}`,
    );
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await benchCompile();
