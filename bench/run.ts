// npm run bench: every benchmark, printing its figures and targets. A section
// that returns false missed a target: the others still run, and the exit code is 1.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const suites: Array<[string, string]> = [
  ['scheduler.ts', 'benchScheduler'],
  ['compile.ts', 'benchCompile'],
  ['credentials.ts', 'benchCredentials'],
  ['cli.ts', 'benchCli'],
  ['float-run.ts', 'benchFloatRun'],
];
for (const [file, fn] of suites) {
  if (!existsSync(join(here, file))) continue;
  const mod = (await import(join(here, file))) as Record<string, () => Promise<boolean | void>>;
  if ((await mod[fn]()) === false) process.exitCode = 1;
}
