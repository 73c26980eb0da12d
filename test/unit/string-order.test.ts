// float's one string order (src/core/compare.ts) is Python's: by code point.
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byCodePoint } from '../../src/core/compare.js';
import { skipUnlessRequired } from '../helpers/prerequisites.js';

/** The reference: compare the arrays of code points. */
function reference(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

const sign = (n: number) => Math.sign(n);
// Characters from every range where code units and code points disagree.
const char = fc.oneof(
  fc.constantFrom('a', 'b', 'z', '-', '0', '\u00e9', '\uD7FF', '\uE000', '\uFFFD', '\uFFFF', '\u{10000}', '\u{1F600}', '\u{10FFFF}'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
);
const str = fc.array(char, { maxLength: 6 }).map((cs) => cs.join(''));

describe('byCodePoint', () => {
  it('orders characters above U+FFFF after U+E000..U+FFFF, as code points do (JavaScript < does not)', () => {
    expect('\u{1F600}' < '\uFFFD').toBe(true);
    expect(byCodePoint('\u{1F600}', '\uFFFD')).toBeGreaterThan(0);
    expect(byCodePoint('\uFFFD', '\u{1F600}')).toBeLessThan(0);
    expect(byCodePoint('host1', 'host10')).toBeLessThan(0);
    expect(byCodePoint('b', 'a')).toBeGreaterThan(0);
    expect(byCodePoint('same', 'same')).toBe(0);
  });

  it('agrees with code-point comparison on random strings', () => {
    fc.assert(fc.property(str, str, (a, b) => sign(byCodePoint(a, b)) === sign(reference(a, b))), { numRuns: 5000 });
  });

  const hasPython = skipUnlessRequired('the string order against Python', spawnSync('python3', ['--version']).status === 0 ? undefined : 'python3 is not installed') === undefined;
  it.skipIf(!hasPython)("sorts like Python's sorted()", () => {
    const words = fc.sample(str, { numRuns: 300, seed: 7 });
    const r = spawnSync('python3', ['-c', 'import json,sys; print(json.dumps(sorted(json.load(sys.stdin))))'], { input: JSON.stringify(words), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect([...words].sort(byCodePoint)).toEqual(JSON.parse(r.stdout));
  });
});
