// YAML read as Ansible reads it (issue 22) and read safely (issue 14, "YAML
// itself"): scalars typed as PyYAML's resolver types them, compared with the
// machine's real PyYAML; aliases resolved once, capped and cycle-checked.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/config/diagnostics.js';
import { parseYamlText, plain, toSourced } from '../../src/config/source.js';
import { VaultValue, YamlFloat, YamlTimestamp } from '../../src/config/yaml-values.js';
import { toYaml } from '../../src/inventory/yaml-emit.js';
import { diagnose } from '../helpers/diagnose.js';

/** Debian's python3, the interpreter Ansible runs on (python3-yaml). */
const PYTHON = '/usr/bin/python3';

/** Each value of the document's top-level list as [type, value] in PyYAML's eyes. */
const PY = `
import sys, json, math, datetime, yaml
def desc(o):
    if isinstance(o, bool): return ['bool', o]
    if o is None: return ['null', None]
    if isinstance(o, int): return ['int', str(o)]
    if isinstance(o, float): return ['float', repr(o)]
    if isinstance(o, str): return ['str', o]
    if isinstance(o, datetime.datetime): return ['timestamp', o.isoformat()]
    if isinstance(o, datetime.date): return ['timestamp', o.isoformat()]
    return [type(o).__name__, repr(o)]
text = sys.stdin.read()
print(json.dumps({name: [desc(v) for v in yaml.load(text, Loader=loader)] for name, loader in (('c', yaml.CSafeLoader), ('py', yaml.SafeLoader))}))
`;

function pyyaml(text: string): unknown[] {
  const r = JSON.parse(execFileSync(PYTHON, ['-c', PY], { input: text, encoding: 'utf8' })) as { c: unknown[]; py: unknown[] };
  // Ansible uses the C loader when libyaml is present, the pure-Python one otherwise: they must agree.
  expect(r.c).toEqual(r.py);
  return r.c;
}

/** The same description of a value float's loader produced. */
function describeJs(v: unknown, source: string): [string, unknown] {
  if (typeof v === 'boolean') return ['bool', v];
  if (v === null) return ['null', null];
  if (typeof v === 'bigint') return ['int', v.toString()];
  if (typeof v === 'string') return ['str', v];
  if (v instanceof YamlTimestamp) return ['timestamp', v.text];
  if (v instanceof YamlFloat) return ['float', String(v.value)];
  if (typeof v === 'number') {
    // JavaScript has one number type: PyYAML's float is recognised by its spelling.
    const isFloat = /[.]/.test(source) || source.startsWith('!!float') || !Number.isFinite(v);
    if (!isFloat) return ['int', String(v)];
    if (Number.isNaN(v)) return ['float', 'nan'];
    if (!Number.isFinite(v)) return ['float', v > 0 ? 'inf' : '-inf'];
    return ['float', String(v)];
  }
  return [typeof v, String(v)];
}

/** Python's repr of a float, reduced to what JavaScript's String gives (1.0 -> 1, 1e+16 -> 10000000000000000). */
function pyFloatAsJs(repr: string): string {
  if (repr === 'nan' || repr === 'inf' || repr === '-inf') return repr;
  return String(Number(repr));
}

function load(text: string): { value?: unknown; diags: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const file = parseYamlText('/test.yml', text, diags);
  if (!file) return { diags };
  const s = toSourced(file, file.doc.contents, diags);
  return { value: s ? plain(s) : undefined, diags };
}

/** Plain scalars whose type differs between YAML 1.2, the YAML 1.1 spec and PyYAML. */
const TRICKY = [
  'y', 'n', 'Y', 'N', 'yes', 'Yes', 'YES', 'yEs', 'no', 'NO', 'nO', 'on', 'On', 'ON', 'oN', 'off', 'OFF', 'true', 'True', 'TRUE', 'tRUE',
  'false', 'FALSE', '0o17', '017', '0017', '08', '0', '00', '-0', '+0', '1_000', '1__0_', '1e3', '1E3', '1.5e3', '1.5e+3', '1.5E-3', '1.', '.5',
  '+.5', '-.5', '1_000.5', '.inf', '-.inf', '+.inf', '.Inf', '.INF', '.iNF', '.nan', '.NaN', '.NAN', '-.nan', '~', 'null', 'Null', 'NULL', 'nULL',
  '2001-12-14', '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43.10 -5', '2001-1-1', '0x1F', '0x1f', '-0x1F', '0X1F', '0b101', '-0b1_0',
  '0B101', '+1', '-1', '1:30', '-1:30', '1:30:00', '1:60', '1:30.5', '190:20:30.15', '9007199254740993', '-123456789012345678901234567890',
  '0x_1', '1_', '_1', 'a_1', '8.0', '-0.0', '1.0e+100', '1_0.0_0', '<<x', '0.1', '123.456e-7', '1,000', '1 000', 'tru', 'nan', 'inf', '0o', '+', '.', '..', '._5', '-x', '=x',
];

/** The same texts quoted, block-scalar'd, and explicitly tagged: str unless the tag says otherwise. */
const TAGGED = ['!!str 017', "'yes'", '"1e3"', '!!int "017"', '!!int "1_000"', '!!float "1"', '!!bool "On"', '!!null ""', '!!str ~'];

describe('scalars are typed as Ansible (PyYAML) types them', () => {
  it(`the loader agrees with the machine's PyYAML on ${TRICKY.length} tricky plain scalars and ${TAGGED.length} tagged ones`, () => {
    const all = [...TRICKY, ...TAGGED];
    const text = all.map((t) => `- ${t}\n`).join('');
    const expected = pyyaml(text) as [string, unknown][];
    const { value, diags } = load(text);
    expect(diags).toEqual([]);
    const got = (value as unknown[]).map((v, i) => describeJs(v, all[i]));
    // A timestamp is kept as its text (the round trip below checks PyYAML reads the same date from it).
    const want = expected.map(([t, v], i) => (t === 'float' ? [t, pyFloatAsJs(String(v))] : t === 'timestamp' ? [t, all[i]] : [t, v]));
    for (let i = 0; i < all.length; i++) expect(got[i], all[i]).toEqual(want[i]);
  });

  it('y and n are strings, so a host named n keeps its name', () => {
    const { value } = load('hosts:\n  n:\n    ips: [10.0.0.1]\n  y:\n    enabled: n\n');
    expect(value).toEqual({ hosts: { n: { ips: ['10.0.0.1'] }, y: { enabled: 'n' } } });
  });

  it('a scalar PyYAML cannot construct is a positioned error, not a silent string', () => {
    for (const [text, col] of [['a: =\n', 4], ['a: !!int abc\n', 10], ['a: 0b_\n', 4], ['a: !!binary aGk=\n', 13]] as const) {
      const { diags } = load(text);
      expect(diags.map((d) => `${d.pos?.line}:${d.pos?.col} ${d.code}`), text).toEqual([`1:${col} F1043`]);
    }
  });

  it('the emitter writes every loaded value so that PyYAML reads it back with the same type and value', () => {
    const all = [...TRICKY, ...TAGGED];
    const text = all.map((t) => `- ${t}\n`).join('');
    const original = pyyaml(text);
    const { value } = load(text);
    // As values, and as strings (the text itself, which must stay a string).
    const emitted = toYaml(value);
    expect(pyyaml(emitted)).toEqual(original);
    const asStrings = pyyaml(toYaml(all));
    expect(asStrings).toEqual(all.map((t) => ['str', t]));
    expect((value as unknown[]).filter((v) => v instanceof YamlTimestamp).length).toBe(3);
  });
});

describe('aliases (billion laughs, cycles)', () => {
  /** `levels` levels of lists of ten aliases to the level below. */
  function laughs(levels: number): string {
    const lines = ['a0: &a0 [lol]'];
    for (let i = 1; i <= levels; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    return lines.join('\n') + '\n';
  }

  it('a 10-level billion laughs is refused at once, at the alias that crosses the limit', () => {
    const text = laughs(10);
    const t0 = performance.now();
    const { value, diags } = load(text);
    const ms = performance.now() - t0;
    console.log(`billion laughs, ${text.length} bytes, 10 levels: refused in ${ms.toFixed(1)} ms`);
    expect(value).toBeUndefined();
    expect(diags.map((d) => `${d.pos?.line}:${d.pos?.col} ${d.code}`)).toEqual(['7:25 F1040']);
    expect(diags[0].message).toContain("'*a5'");
    expect(ms).toBeLessThan(5000);
  });

  it('the same through float check: a positioned F1040, no crash', () => {
    const t0 = performance.now();
    const d = diagnose({ 'group_vars/all.yml': `domain: x.example\ndomain_public: [x.example]\n${laughs(10)}` });
    console.log(`float check on a 10-level billion laughs: ${(performance.now() - t0).toFixed(0)} ms`);
    expect(d.map((x) => x.at)).toEqual(['group_vars/all.yml:9:25 F1040']);
  });

  it('aliases within the limit are shared, not copied, and give the expected value', () => {
    const { value, diags } = load(laughs(4));
    expect(diags).toEqual([]);
    const v = value as Record<string, unknown[]>;
    expect(v.a4.flat(4)).toHaveLength(10_000);
    expect(v.a4.flat(4).every((x) => x === 'lol')).toBe(true);
  });

  it('a large fleet sharing defaults through merge keys is well within the limit', () => {
    const defaults = Array.from({ length: 30 }, (_, i) => `    k${i}: v${i}\n`).join('');
    const hosts = Array.from({ length: 5000 }, (_, i) => `  h${i}:\n    <<: *defaults\n    ips: [10.0.${i >> 8}.${i & 255}]\n`).join('');
    const { value, diags } = load(`defaults: &defaults\n${defaults}hosts:\n${hosts}`);
    expect(diags).toEqual([]);
    expect((value as { hosts: Record<string, Record<string, string>> }).hosts.h4999.k29).toBe('v29');
  });

  it('a self-referencing alias is a positioned cycle error, not a stack overflow', () => {
    expect(load('a: &a [1, *a]\n').diags.map((d) => `${d.pos?.line}:${d.pos?.col} ${d.code}`)).toEqual(['1:11 F1041']);
    expect(load('a: &a {b: {c: *a}}\n').diags.map((d) => `${d.pos?.line}:${d.pos?.col} ${d.code}`)).toEqual(['1:15 F1041']);
    expect(load('a: &a\n  <<: *a\n  x: 1\n').diags.map((d) => `${d.pos?.line}:${d.pos?.col} ${d.code}`)).toEqual(['2:7 F1041']);
    const d = diagnose({ 'services.yml': 'web: &w\n  scheduling_group: backend\n  x: *w\n' });
    expect(d.map((x) => x.at)).toEqual(['services.yml:3:6 F1041']);
  });

  it('an alias with no anchor before it is a positioned error', () => {
    const { diags } = load('a: *nope\nb: &nope 1\n');
    expect(diags.map((d) => `${d.pos?.line}:${d.pos?.col} ${d.code}`)).toEqual(['1:4 F1042']);
    expect(diags[0].message).toContain('*nope');
  });

  it('an anchor redefined later: each alias names the last one before it', () => {
    expect(load('a: &x 1\nb: *x\nc: &x 2\nd: *x\n').value).toEqual({ a: 1, b: 1, c: 2, d: 2 });
  });

  it('merge keys take a mapping or a list of mappings, also through an alias', () => {
    expect(load('a: &a {x: 1}\nb: &b {y: 2}\nl: &l [*a, *b]\nc: {<<: *l, x: 3}\n').value).toMatchObject({ c: { x: 3, y: 2 } });
    expect(load('a: {<<: 1}\n').diags.map((d) => d.code)).toEqual(['F1044']);
  });
});

describe('diagnostics name what they are about', () => {
  it('F1004 names the repeated key', () => {
    const d = diagnose({ 'services.yml': 'web:\n  num_instances: 1\n  num_instances: 2\n' });
    expect(d.map((x) => x.at)).toEqual(['services.yml:3:3 F1004']);
    expect(d[0].message).toBe("key 'num_instances' repeated in one mapping");
  });
});

describe('inline vault values', () => {
  it('keep their tag through the loader and the emitter', () => {
    const text = 'secret: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n  6364\nlist:\n  - !vault |\n    $ANSIBLE_VAULT;1.1;AES256\n    6566\n';
    const { value } = load(text);
    const v = value as { secret: VaultValue; list: VaultValue[] };
    expect(v.secret).toBeInstanceOf(VaultValue);
    expect(v.secret.ciphertext).toBe('$ANSIBLE_VAULT;1.1;AES256\n6162\n6364\n');
    expect(String(v.secret)).not.toContain('6162');
    const out = toYaml(value);
    expect(out).toBe('list:\n  - !vault |\n    $ANSIBLE_VAULT;1.1;AES256\n    6566\nsecret: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n  6364\n');
    // And it reads back as the same vault values.
    expect(load(out).value).toEqual(value);
    // Not a vault: refused now rather than when Ansible uses the variable.
    expect(load('a: !vault plain text\n').diags.map((d) => `${d.pos?.line}:${d.pos?.col} ${d.code}`)).toEqual(['1:11 F1043']);
  });
});

describe('messages about typed scalars', () => {
  it('a date where a string is expected says so', () => {
    const d = diagnose({ 'services.yml': 'web:\n  scheduling_group: 2001-12-14\n' });
    expect(d.map((x) => x.at)).toContain('services.yml:2:21 F1002');
    expect(d.find((x) => x.at === 'services.yml:2:21 F1002')?.message).toContain('a date 2001-12-14 (quote it to have a string)');
  });
});

describe('keys as Ansible reads them', () => {
  it('two spellings of one key are a repeated key; a plain = key is the string =', () => {
    expect(load('a:\n  1: x\n  01: y\n').diags.map((d) => `${d.pos?.line}:${d.pos?.col} ${d.code} ${d.message}`)).toEqual([
      "3:3 F1004 key '1' repeated in one mapping (two spellings of the same key as Ansible reads YAML)",
    ]);
    expect(load('yes: 1\nTrue: 2\n').diags.map((d) => d.code)).toEqual(['F1004']);
    expect(load('=: 1\n').value).toEqual({ '=': 1 });
    expect(pyyaml('- {=: 1}\n')).toEqual([['dict', "{'=': 1}"]]);
  });
});

describe('non-string keys', () => {
  it('integer, boolean, null and float keys reach PyYAML with their type, through the loader and the emitter', () => {
    const text = 'vlans:\n  10: mgmt\n  0x14: users\n  yes: t\n  ~: none\n  3.0: f\n  2.5: h\n  name: s\n  "30": quoted\n';
    const { value, diags } = load(text);
    expect(diags).toEqual([]);
    const keys = (t: string) =>
      execFileSync(PYTHON, ['-c', 'import sys, yaml; print(sorted(repr(k) for k in yaml.safe_load(sys.stdin.read())["vlans"]))'], { input: t, encoding: 'utf8' }).trim();
    expect(keys(toYaml(value))).toBe(keys(text));
    expect(keys(text)).toBe(`["'30'", "'name'", '10', '2.5', '20', '3.0', 'None', 'True']`);
    // PyYAML's int 20 and string '20' are two keys; float's mappings are keyed by text.
    expect(load('a:\n  0x14: x\n  "20": y\n').diags.map((d) => `${d.pos?.line}:${d.pos?.col} ${d.code} ${d.message}`)).toEqual([
      "3:3 F1004 key '20' repeated in one mapping (once as a string and once as a number, boolean or null: rename one)",
    ]);
  });
});
