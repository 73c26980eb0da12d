// The inventory's YAML emitter, read back by PyYAML (the C and the pure-Python
// safe loaders; Ansible uses the former when libyaml is present): every value
// must come back as it was, with the same types.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dataString, toYaml, UnsafeString } from '../../src/inventory/yaml-emit.js';
import { serviceData } from '../../src/inventory/data-strings.js';
import { VaultValue, YamlTimestamp } from '../../src/config/yaml-values.js';
import type { Service } from '../../src/config/schema/service.js';

const PY = `
import sys, json, math, yaml
def norm(o):
    if isinstance(o, bool) or o is None or isinstance(o, (int, str)):
        return o
    if isinstance(o, float):
        return {'__float__': repr(o)} if (math.isinf(o) or math.isnan(o)) else o
    if isinstance(o, list):
        return [norm(x) for x in o]
    if isinstance(o, dict):
        return {(k if isinstance(k, str) else '!%s:%r' % (type(k).__name__, k)): norm(v) for k, v in o.items()}
    return {'__type__': type(o).__name__, 'repr': repr(o)}
text = sys.stdin.read()
print(json.dumps({'c': norm(yaml.load(text, Loader=yaml.CSafeLoader)), 'py': norm(yaml.load(text, Loader=yaml.SafeLoader))}))
`;

/** What PyYAML reads from the emitted text, with both loaders. */
function pyyaml(text: string): { c: unknown; py: unknown } {
  return JSON.parse(execFileSync('python3', ['-c', PY], { input: text, encoding: 'utf8', maxBuffer: 256 * 2 ** 20 }));
}

/** The value as PyYAML should give it back (JSON semantics: -0 is 0, keys are strings). */
const asJson = (v: unknown) => JSON.parse(JSON.stringify(v));

const TRICKY_STRINGS = [
  '', ' ', 'yes', 'No', 'ON', 'off', 'y', 'n', '~', 'null', 'Null', 'true', 'False', '1e3', '1.5', '0755', '0x1f', '0o17', '1_000',
  '2001-12-14', '2001-12-14T21:59:43.10-05:00', '1:20', '190:20:30', '.inf', '-.Inf', '.nan', '-', '--', '---', '...', '? x', '- a', 'a: b',
  'a:b', 'a #b', '#x', '@x', '`x', '!x', '!!str', '&x', '*x', '|', '>', '%x', '[a]', '{a}', '"q"', "'q'", ' lead', 'trail ', 'a\nb', 'a\r\nb',
  'tab\there', '\u0000', '\u0007', '\u001b[0m', '\u007f', '\u0085', '\u00a0', '\u2028', '\u2029', '\ufeff', '\ufffe', '\uffff', 'é', '日本語',
  '😀', '{{ inventory_hostname }}', '<<', '=', '/etc/hosts', 'host.example.com', 'be_www_8080_web-app', 'C:\\path', '\\',
];

const TRICKY_NUMBERS = [0, -0, 1, -1, 0.1, -2.5, 1e-7, 1.5e-7, 1e21, 1.2345e22, -1e-300, 5e-324, Number.MAX_VALUE, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, 123456789012];

describe('toYaml, read back by PyYAML', () => {
  it('tricky strings, as values and as keys, come back unchanged', () => {
    const doc = { values: TRICKY_STRINGS, keys: Object.fromEntries(TRICKY_STRINGS.map((s, i) => [s, i])) };
    const back = pyyaml(toYaml(doc));
    expect(back.c).toEqual(doc);
    expect(back.py).toEqual(doc);
  });

  it('a lone surrogate (not Unicode, unreadable by any YAML reader) becomes U+FFFD', () => {
    const back = pyyaml(toYaml({ a: 'x\ud83dy', b: '\ude00', c: '😀' }));
    expect(back.c).toEqual({ a: 'x\ufffdy', b: '\ufffd', c: '😀' });
  });

  it('numbers keep their value and type (exponents, subnormals, large integers)', () => {
    const back = pyyaml(toYaml({ n: TRICKY_NUMBERS }));
    expect(back.c).toEqual(asJson({ n: TRICKY_NUMBERS }));
    expect(back.py).toEqual(asJson({ n: TRICKY_NUMBERS }));
    expect(toYaml({ x: [1e-7, 1e21] })).toBe('x:\n  - 1.0e-7\n  - 1.0e+21\n');
  });

  it('non-finite numbers are YAML floats, not strings', () => {
    const back = pyyaml(toYaml({ a: Infinity, b: -Infinity, c: NaN }));
    expect(back.c).toEqual({ a: { __float__: 'inf' }, b: { __float__: '-inf' }, c: { __float__: 'nan' } });
    expect(back.py).toEqual(back.c);
  });

  it('empty and nested collections, null, booleans', () => {
    const doc = { a: {}, b: [], c: [[], {}, [[1]], [{ x: [] }]], d: null, e: true, f: false, g: [{ k: { l: [{}, { m: null }] } }] };
    const back = pyyaml(toYaml(doc));
    expect(back.c).toEqual(doc);
    expect(back.py).toEqual(doc);
    expect(pyyaml(toYaml([])).c).toEqual([]);
    expect(pyyaml(toYaml([1, 'a'])).c).toEqual([1, 'a']);
    expect(pyyaml(toYaml({})).c).toEqual({});
  });

  it('arbitrary JSON values (600 generated, full Unicode) come back unchanged', () => {
    const arb = fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' });
    const values = fc.sample(arb, { numRuns: 600, seed: 20240601 });
    const doc = { values };
    const back = pyyaml(toYaml(doc));
    expect(back.c).toEqual(asJson(doc));
    expect(back.py).toEqual(asJson(doc));
  });

  it('output is byte-stable: keys in code-point order whatever the insertion order', () => {
    expect(toYaml({ b: 1, a: { d: 2, c: 3 }, B: 0 })).toBe(toYaml({ B: 0, a: { c: 3, d: 2 }, b: 1 }));
    expect(toYaml({ b: 1, a: { d: 2, c: 3 }, B: 0 })).toBe('B: 0\na:\n  c: 3\n  d: 2\nb: 1\n');
  });

  it('data strings: tagged !unsafe when Jinja could read them, plain otherwise', () => {
    expect(dataString('plain value')).toBe('plain value');
    expect(dataString("{{ lookup('pipe', 'id') }}")).toBeInstanceOf(UnsafeString);
    expect(toYaml({ a: dataString('{{ x }}'), b: [dataString('{% y %}')], c: dataString('z') })).toBe('a: !unsafe "{{ x }}"\nb:\n  - !unsafe "{% y %}"\nc: z\n');
    expect(JSON.stringify({ a: dataString('{{ x }}') })).toBe('{"a":"{{ x }}"}');
  });
});

describe('service data in the inventory', () => {
  it('value objects in free-form attributes stay values (a date, a vault value), while strings become data', () => {
    const s = {
      name: 'svc',
      containers: [],
      annotations: { since: new YamlTimestamp('2020-01-01'), token: new VaultValue('$ANSIBLE_VAULT;1.1;AES256\n3031'), note: '{{ x }}' },
    } as unknown as Service;
    const a = serviceData(s).annotations as Record<string, unknown>;
    expect(a.since).toBeInstanceOf(YamlTimestamp);
    expect(a.token).toBeInstanceOf(VaultValue);
    expect(a.note).toBeInstanceOf(UnsafeString);
    expect(toYaml({ a })).toBe('a:\n  note: !unsafe "{{ x }}"\n  since: 2020-01-01\n  token: !vault |\n    $ANSIBLE_VAULT;1.1;AES256\n    3031\n');
  });
});
