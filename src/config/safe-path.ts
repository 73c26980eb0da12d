// Paths built from configuration values (host, group and credential names) stay
// under their base directory. Names are checked at load time (src/config/hostile.ts);
// this is the second line: whatever reaches a path builder without that check
// (a library caller, a future field) still cannot name a file elsewhere.
import { isAbsolute, join, relative, resolve } from 'node:path';
import { FloatUserError } from './diagnostics.js';

/**
 * A value used as one component of a path: not empty, not `.` or `..`, no `/`,
 * no NUL. Returns it unchanged; throws a user error (F1024) naming it otherwise.
 */
export function pathSegment(value: string, what: string): string {
  if (value === '' || value === '.' || value === '..' || value.includes('/') || value.includes('\0')) {
    throw new FloatUserError(`${what} ${JSON.stringify(value)} cannot be used in a file name: it would lead outside its directory`, 'F1024');
  }
  return value;
}

/**
 * `base` joined with a relative path, checked to resolve inside `base` (never
 * `base` itself, never above it). Throws a user error (F1024) naming the value.
 */
export function within(base: string, rel: string, what = 'path'): string {
  const root = resolve(base);
  const p = resolve(root, rel);
  const r = relative(root, p);
  if (rel.includes('\0') || isAbsolute(rel) || r === '' || r === '..' || r.startsWith('../') || isAbsolute(r)) {
    throw new FloatUserError(`${what} ${JSON.stringify(rel)} leads outside ${base}`, 'F1024');
  }
  return join(root, r);
}

/** `base`/seg1/seg2/…, each segment checked with pathSegment. */
export function safeJoin(base: string, what: string, ...segments: string[]): string {
  for (const s of segments) pathSegment(s, what);
  return within(base, join(...segments), what);
}
