// `node --import ./trace-imports.mjs ...` appends the URL of every module the
// process loads, one a line, to the file named by FLOAT_TRACE_IMPORTS (the hooks
// run on their own thread, so they write to a file rather than to stderr).
import { register } from 'node:module';

const hooks = `
import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function load(url, context, next) {
  appendFileSync(file, url + '\\n');
  return next(url, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { file: process.env.FLOAT_TRACE_IMPORTS } });
