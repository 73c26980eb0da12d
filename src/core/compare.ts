// The one string order of float: Unicode code points, which is Python's str order
// (upstream float's, so float-compat needs it) and does not depend on the locale
// (never localeCompare). JavaScript's `<` compares UTF-16 code units instead, which
// differs when a string has a character above U+FFFF: its surrogate pair
// (0xD800-0xDFFF) sorts below the characters 0xE000-0xFFFF although its code point
// is above them.

/** Orders two strings by code point: negative, zero or positive, for Array.prototype.sort. */
export function byCodePoint(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return (x < 0xd800 && y < 0xd800) ? x - y : unitRank(x) - unitRank(y);
  }
  return a.length - b.length;
}

/**
 * A code unit's place in code-point order, where the first difference of two
 * strings is: surrogates (characters above U+FFFF) after every other unit.
 * Two surrogates keep their order, which is their code points' order.
 */
function unitRank(u: number): number {
  if (u >= 0xd800 && u <= 0xdfff) return u + 0x2000;
  if (u >= 0xe000) return u - 0x800;
  return u;
}
