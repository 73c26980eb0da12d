// npm run bench: every benchmark, printing its figures and targets.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const suites: Array<[string, string]> = [
  ['scheduler.ts', 'benchScheduler'],
  ['compile.ts', 'benchCompile'],
  ['credentials.ts', 'benchCredentials'],
  ['cli.ts', 'benchCli'],
];
for (const [file, fn] of suites) {
  if (!existsSync(join(here, file))) continue;
  const mod = (await import(join(here, file))) as Record<string, () => Promise<void>>;
  await mod[fn]();
}
