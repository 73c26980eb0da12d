// A small, fast, deterministic YAML emitter for plain data (objects, arrays,
// strings, numbers, booleans, null): block style, keys in code-point order,
// strings left plain only when unambiguous, otherwise JSON-quoted (a JSON string
// is a valid YAML double-quoted scalar). The `yaml` package's stringify took
// most of a large compile's time.
import { TYPED_KEYS, UnsafeString, VaultValue, YamlFloat, YamlTimestamp, type WithTypedKeys } from '../config/yaml-values.js';
import { byCodePoint } from './names.js';

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./@+-]*$/;
const RESERVED = /^(y|n|yes|no|true|false|on|off|null|~)$/i;

/**
 * Characters a JSON string leaves as they are but YAML must not see raw: C1
 * controls and DEL (PyYAML rejects the whole file), NEL and the Unicode line and
 * paragraph separators (YAML 1.1 line breaks, folded inside quotes), the BOM and
 * the non-characters U+FFFE/U+FFFF.
 */
const UNSAFE = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;

/** Lone UTF-16 surrogates: no YAML reader accepts them, even escaped. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function quote(s: string): string {
  return JSON.stringify(s.replace(LONE_SURROGATE, '\ufffd')).replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A number as YAML 1.1 (PyYAML) reads it back: floats in exponent form need a dot
 * in the mantissa and a signed exponent (`1e-7` would be a string), and the
 * non-finite values have their own spelling.
 */
function number(v: number): string {
  if (Number.isNaN(v)) return '.nan';
  if (!Number.isFinite(v)) return v > 0 ? '.inf' : '-.inf';
  const s = String(v);
  const m = /^(-?\d+)(?:\.(\d+))?e([+-])(\d+)$/.exec(s);
  return m ? `${m[1]}.${m[2] ?? '0'}e${m[3]}${m[4]}` : s;
}

export { UnsafeString };

/**
 * The value to emit for a configuration string that is data: tagged `!unsafe`
 * when Jinja could read anything in it (it holds a `{`), as it is otherwise
 * (the same value to Ansible, and the inventory stays readable).
 */
export function dataString(s: string): string | UnsafeString {
  return s.includes('{') ? new UnsafeString(s) : s;
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (v instanceof UnsafeString) return `!unsafe ${quote(v.value)}`;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return number(v);
  if (typeof v === 'bigint') return v.toString();
  // Read back as the same date or date-time (it was resolved from this very text).
  if (v instanceof YamlTimestamp) return v.text;
  // A float with an integral value keeps its point (number() writes 1e+21 as 1.0e+21 already).
  if (v instanceof YamlFloat) {
    const t = number(v.value);
    return Object.is(v.value, -0) ? '-0.0' : /[.]/.test(t) ? t : `${t}.0`;
  }
  const s = String(v);
  return PLAIN.test(s) && !RESERVED.test(s) ? s : quote(s);
}

/**
 * An inline vault value, as Ansible writes it: `!vault |` and the vault text
 * indented below, so that Ansible decrypts it when the variable is used.
 */
function vault(v: VaultValue, indent: string): string {
  const lines = v.ciphertext
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return ` !vault |\n${lines.map((l) => `${indent}${l}\n`).join('')}`;
}

export const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof VaultValue) && !(v instanceof YamlTimestamp) && !(v instanceof UnsafeString) && !(v instanceof YamlFloat);

function emit(v: unknown, indent: string, out: string[]): void {
  // Called for a collection value placed after "key:" or "-" on the previous text.
  if (Array.isArray(v)) {
    if (v.length === 0) {
      out.push(' []\n');
      return;
    }
    out.push('\n');
    for (const item of v) {
      out.push(`${indent}-`);
      if (isMap(item) && Object.keys(item).length > 0) {
        // First key on the dash line, the rest aligned under it.
        mapBody(item, indent + '  ', out, true);
      } else if (Array.isArray(item) && item.length > 0) emit(item, indent + '  ', out);
      else if (item instanceof VaultValue) out.push(vault(item, indent + '  '));
      else out.push(` ${isMap(item) ? '{}' : Array.isArray(item) ? '[]' : scalar(item)}\n`);
    }
    return;
  }
  if (isMap(v)) {
    if (Object.keys(v).length === 0) {
      out.push(' {}\n');
      return;
    }
    out.push('\n');
    mapBody(v, indent, out, false);
    return;
  }
  out.push(v instanceof VaultValue ? vault(v, indent) : ` ${scalar(v)}\n`);
}

function mapBody(m: Record<string, unknown>, indent: string, out: string[], firstOnDash: boolean): void {
  const keys = Object.keys(m).sort(byCodePoint);
  // Keys read from YAML as numbers, booleans or null are written back as such.
  const typed = (m as WithTypedKeys)[TYPED_KEYS];
  keys.forEach((k, i) => {
    const key = typed?.has(k) ? scalar(typed.get(k)) : scalar(k);
    out.push(i === 0 && firstOnDash ? ` ${key}:` : `${indent}${key}:`);
    emit(m[k], indent + '  ', out);
  });
}

/** YAML text of a value (a document whose top level is a mapping, a list or a scalar). */
export function toYaml(value: unknown): string {
  const out: string[] = [];
  if (isMap(value) && Object.keys(value).length > 0) mapBody(value, '', out, false);
  else if (Array.isArray(value) && value.length > 0) {
    emit(value, '', out);
    out.shift(); // the leading newline emit() puts after a key
  } else if (value instanceof VaultValue) out.push(vault(value, '  ').slice(1));
  else out.push(`${isMap(value) ? '{}' : Array.isArray(value) ? '[]' : scalar(value)}\n`);
  return out.join('');
}
