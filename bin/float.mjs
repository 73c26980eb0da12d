#!/usr/bin/env node
// The float command. It runs the JavaScript that scripts/build.mjs compiles into
// dist/ (node scripts/setup.mjs builds it, and npm test, npm run demo and npm run
// bench run that). When dist/ is missing or older than src/ (a checkout edited or
// updated since the last build), or FLOAT_FROM_SOURCE=1, it runs the TypeScript
// sources through tsx instead: the same behaviour, a slower start.
import { isStale } from '../scripts/build.mjs';

// A reader that stops early (`float schedule | head`) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

let main;
if (process.env.FLOAT_FROM_SOURCE !== '1' && !isStale()) {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    process.stderr.write('float: dist/ is missing or out of date and tsx is not installed: run `node scripts/build.mjs` in the float checkout\n');
    process.exit(2);
  }
  tsx.register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
