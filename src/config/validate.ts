// Validates a sourced YAML value against a zod schema, turning every issue into a
// diagnostic positioned in the file where the offending key or value was written.
import type { z } from 'zod';
import type { Diagnostic } from './diagnostics.js';
import { at, locate, plain, type Sourced } from './source.js';
import { suggest } from './suggest.js';
import { UnsafeString, VaultValue, YamlFloat, YamlTimestamp } from './yaml-values.js';

type AnySchema = z.ZodType;

interface Def {
  type: string;
  shape?: Record<string, AnySchema>;
  element?: AnySchema;
  innerType?: AnySchema;
  valueType?: AnySchema;
  options?: AnySchema[];
  /** The input side of a pipe (a schema with a .transform()). */
  in?: AnySchema;
}

function defOf(s: AnySchema): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

/** The object keys a schema accepts at a path, for did-you-mean suggestions. */
function keysAt(schema: AnySchema, path: readonly PropertyKey[]): string[] {
  let cur: AnySchema | undefined = schema;
  const unwrap = () => {
    while (cur) {
      const d = defOf(cur);
      if ((d.type === 'optional' || d.type === 'default' || d.type === 'nullable' || d.type === 'prefault') && d.innerType) {
        cur = d.innerType;
      } else if (d.type === 'pipe' && d.in) {
        cur = d.in;
      } else break;
    }
  };
  for (const step of path) {
    unwrap();
    if (!cur) return [];
    const d = defOf(cur);
    if (d.type === 'object' && d.shape) cur = d.shape[String(step)];
    else if (d.type === 'array' && d.element) cur = d.element;
    else if (d.type === 'record' && d.valueType) cur = d.valueType;
    else if (d.type === 'union' && d.options) cur = d.options.find((o) => defOf(o).type === 'array' || defOf(o).type === 'object');
    else return [];
  }
  unwrap();
  const d = cur ? defOf(cur) : undefined;
  return d?.type === 'object' && d.shape ? Object.keys(d.shape) : [];
}

function describePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (Array.isArray(v)) return 'a list';
  if (v instanceof VaultValue) return 'an encrypted (!vault) value';
  if (v instanceof UnsafeString) return describeValue(v.value);
  if (v instanceof YamlFloat) return `number ${String(v)}`;
  if (v instanceof YamlTimestamp) return `a date ${v.text} (quote it to have a string)`;
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${String(v)}`;
}

/** Whether a value holds an `!unsafe` string or an integral float, which schema validation reads as plain. */
function hasTypedScalar(s: Sourced): boolean {
  if (s.kind === 'scalar') return s.value instanceof UnsafeString || s.value instanceof YamlFloat;
  if (s.kind === 'seq') return s.items.some(hasTypedScalar);
  for (const e of s.entries.values()) if (hasTypedScalar(e.value)) return true;
  return false;
}

export interface ValidateOptions {
  /** Path of `source` inside the file's document, prepended to messages (e.g. ["myservice"]). */
  prefix?: readonly PropertyKey[];
  /** What kind of thing this is, for messages ("service attribute", "host attribute"). */
  what?: string;
}

/** Parses `source` with `schema`; on failure pushes positioned diagnostics and returns undefined. */
export function validate<S extends AnySchema>(
  schema: S,
  source: Sourced,
  diags: Diagnostic[],
  opts: ValidateOptions = {},
): z.infer<S> | undefined {
  const result = schema.safeParse(plain(source, { forSchema: true }));
  if (result.success) {
    // Variables the schema does not know (passed through) keep their `!unsafe` tag.
    const data = result.data as unknown;
    const known = new Set(keysAt(schema, []));
    if (known.size > 0 && source.kind === 'map' && typeof data === 'object' && data !== null && !Array.isArray(data)) {
      const out = data as Record<string, unknown>;
      for (const [k, e] of source.entries) if (!known.has(k) && k in out && hasTypedScalar(e.value)) out[k] = plain(e.value);
    }
    return data as z.infer<S>;
  }
  const prefix = opts.prefix ?? [];
  for (const issue of result.error.issues) {
    const path = issue.path as PropertyKey[];
    const shown = describePath([...prefix, ...path]);
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(schema, path);
      for (const key of issue.keys) {
        const hint = suggest(key, known);
        diags.push({
          code: 'F1001',
          severity: 'error',
          message: `unknown ${opts.what ?? 'attribute'} '${key}'${path.length || prefix.length ? ` in ${shown}` : ''}${hint ? ` (did you mean '${hint}'?)` : ''}`,
          pos: locate(source, [...path, key], { key: true }),
          subject: describePath([...prefix, ...path, key]),
        });
      }
      continue;
    }
    const present = at(source, path);
    if (!present && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) {
      diags.push({
        code: 'F1003',
        severity: 'error',
        message: `missing required attribute '${shown}'`,
        pos: locate(source, path),
        subject: shown,
      });
      continue;
    }
    // A value decrypted from a vault file is never shown.
    const got = !present ? 'nothing' : present.file.decrypted ? 'a value from an encrypted file (not shown)' : describeValue(plain(present));
    const message = issue.code === 'invalid_type' ? `expected ${issue.expected}, got ${got}` : `${issue.message} (got ${got})`;
    diags.push({
      code: 'F1002',
      severity: 'error',
      message: `${shown}: ${message}`,
      pos: locate(source, path),
      subject: shown,
    });
  }
  return undefined;
}
