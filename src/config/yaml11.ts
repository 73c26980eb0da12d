// Scalars read as Ansible reads them: PyYAML's YAML 1.1 resolver (resolver.py)
// and its SafeConstructor (constructor.py), not the whole YAML 1.1 type
// repository. The differences that matter: `y`/`n` are strings, booleans are only
// yes/no/true/false/on/off in lower, Capitalised or UPPER case, `1e3` is a
// string (a float needs a dot, and a signed exponent), `017` is octal and
// `1:30` is 90 (base 60).
import { YamlFloat, YamlTimestamp } from './yaml-values.js';

export type ScalarValue = string | number | bigint | boolean | null | YamlTimestamp | YamlFloat;

const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const NULL = /^(?:~|null|Null|NULL|)$/;
const TIMESTAMP =
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/;
/** A plain `=` resolves to tag:yaml.org,2002:value, which PyYAML's SafeLoader (and Ansible) cannot construct. */

/** A scalar PyYAML would refuse to construct (Ansible stops on the file). */
export class ScalarError extends Error {}

/** Python's int() of a digit string in a base, exact (a bigint when beyond 2^53). */
function bigInt(digits: string, base: number): bigint {
  if (digits === '') throw new ScalarError(`invalid literal for int() with base ${base}: ''`);
  const prefix = base === 2 ? '0b' : base === 8 ? '0o' : base === 16 ? '0x' : '';
  try {
    return BigInt(prefix + digits);
  } catch {
    throw new ScalarError(`invalid literal for int() with base ${base}`);
  }
}

function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** SafeConstructor.construct_yaml_int. */
function constructInt(text: string): number | bigint {
  let value = text.replace(/_/g, '');
  let sign = 1n;
  if (value[0] === '-') sign = -1n;
  if (value[0] === '+' || value[0] === '-') value = value.slice(1);
  if (value === '0') return 0;
  if (value.startsWith('0b')) return narrow(sign * bigInt(value.slice(2), 2));
  if (value.startsWith('0x')) return narrow(sign * bigInt(value.slice(2), 16));
  if (value[0] === '0') return narrow(sign * bigInt(value.slice(1) || '0', 8));
  if (value.includes(':')) {
    let out = 0n;
    for (const part of value.split(':')) out = out * 60n + bigInt(part, 10);
    return narrow(sign * out);
  }
  if (!/^[0-9]+$/.test(value)) throw new ScalarError(`invalid literal for int() with base 10`);
  return narrow(sign * BigInt(value));
}

/** A float as float reads it: a number, or a YamlFloat when its value is integral (so it stays a float). */
function float(v: number): number | YamlFloat {
  return Number.isInteger(v) || Object.is(v, -0) ? new YamlFloat(v) : v;
}

/** SafeConstructor.construct_yaml_float. */
function constructFloat(text: string): number {
  let value = text.replace(/_/g, '').toLowerCase();
  let sign = 1;
  if (value[0] === '-') sign = -1;
  if (value[0] === '+' || value[0] === '-') value = value.slice(1);
  if (value === '.inf') return sign * Infinity;
  if (value === '.nan') return NaN;
  if (value.includes(':')) {
    let out = 0;
    for (const part of value.split(':')) out = out * 60 + pyFloat(part);
    return sign * out;
  }
  return sign * pyFloat(value);
}

function pyFloat(s: string): number {
  if (!/^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[-+]?[0-9]+)?$/.test(s)) throw new ScalarError('could not convert string to float');
  return Number(s);
}

const BOOL_VALUES: Record<string, boolean> = { yes: true, no: false, true: true, false: false, on: true, off: false };

/** SafeConstructor.construct_yaml_bool. */
function constructBool(text: string): boolean {
  const v = BOOL_VALUES[text.toLowerCase()];
  if (v === undefined) throw new ScalarError('not a boolean (yes/no/true/false/on/off)');
  return v;
}

/**
 * The value of a plain (unquoted, untagged) scalar, as PyYAML resolves and
 * constructs it. Throws ScalarError for the few PyYAML cannot construct.
 */
export function resolvePlain(text: string): ScalarValue {
  // PyYAML picks the resolvers by the first character; among them the first match
  // wins (bool, float, int, null, timestamp). Most text starts with a letter no
  // resolver takes, and stays a string without a regex run.
  const c = text.charCodeAt(0);
  const digit = c >= 48 && c <= 57;
  if (BOOL_FIRST.has(text[0]) && BOOL.test(text)) return constructBool(text);
  if ((digit || c === 43 || c === 45 || c === 46) && FLOAT.test(text)) return float(constructFloat(text));
  if ((digit || c === 43 || c === 45) && INT.test(text)) return constructInt(text);
  if ((text === '' || c === 126 || c === 110 || c === 78) && NULL.test(text)) return null;
  if (digit && TIMESTAMP.test(text)) return new YamlTimestamp(text);
  if (text === '=') throw new ScalarError("a plain '=' is a YAML 1.1 value key, which Ansible cannot read: quote it");
  return text;
}

const BOOL_FIRST = new Set('yYnNtTfFoO');

/** The standard tags (`!!int "12"`) PyYAML's SafeLoader constructs from a scalar. */
export function constructTagged(tag: string, text: string): ScalarValue | undefined {
  switch (tag) {
    case 'tag:yaml.org,2002:str':
      return text;
    case 'tag:yaml.org,2002:null':
      return null;
    case 'tag:yaml.org,2002:bool':
      return constructBool(text);
    case 'tag:yaml.org,2002:int':
      return constructInt(text);
    case 'tag:yaml.org,2002:float':
      return float(constructFloat(text));
    case 'tag:yaml.org,2002:timestamp':
      if (!TIMESTAMP.test(text)) throw new ScalarError('not a timestamp');
      return new YamlTimestamp(text);
    default:
      return undefined;
  }
}
