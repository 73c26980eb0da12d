// YAML files with source positions, and "sourced" trees that remember, for every
// value, the file and node it came from, even after include/override merging.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair } from 'yaml';
import type { Diagnostic, Position } from './diagnostics.js';

export interface YamlFile {
  /** Absolute path. */
  path: string;
  /** The path as shown in messages (relative to the working directory when shorter). */
  display: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

export function positionAt(file: YamlFile, offset: number | undefined): Position {
  const { line, col } = file.lines.linePos(offset ?? 0);
  return { file: file.display, line, col };
}

export function positionOf(file: YamlFile, node: Node | null | undefined): Position {
  return positionAt(file, node?.range?.[0] ?? 0);
}

/**
 * Reads and parses one YAML file. Syntax errors and repeated keys become positioned
 * diagnostics; the file is returned only when it parsed cleanly.
 */
export function readYamlFile(path: string, diags: Diagnostic[], from?: Position): YamlFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    diags.push({
      code: 'F1005',
      severity: 'error',
      message: `cannot read ${displayPath(path)}: ${reason}`,
      pos: from,
    });
    return undefined;
  }
  const lines = new LineCounter();
  // YAML 1.1, as Ansible reads it: yes/no/on/off are booleans.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, version: '1.1' });
  const file: YamlFile = { path, display: displayPath(path), doc, lines };
  for (const e of doc.errors) {
    const duplicate = e.code === 'DUPLICATE_KEY';
    diags.push({
      code: duplicate ? 'F1004' : 'F1000',
      severity: 'error',
      message: duplicate ? 'key repeated in one mapping' : `YAML syntax error: ${e.message.split('\n')[0]}`,
      pos: positionAt(file, e.pos[0]),
    });
  }
  return doc.errors.length > 0 ? undefined : file;
}

/** A value together with where it was written. */
export type Sourced =
  | { kind: 'map'; file: YamlFile; node: Node; entries: Map<string, SourcedEntry> }
  | { kind: 'seq'; file: YamlFile; node: Node; items: Sourced[] }
  | { kind: 'scalar'; file: YamlFile; node: Node | null; value: unknown };

export interface SourcedEntry {
  /** The key node, for errors about the key itself (unknown attribute, bad name). */
  keyFile: YamlFile;
  keyNode: Node | null;
  value: Sourced;
}

/** A YAML 1.1 merge key (`<<: *anchor`), which the parser keeps as a symbol-valued scalar. */
function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === 'symbol' && key.value.description === '<<';
}

/**
 * The entries a merge key brings in: the aliased map, or each map of a list of
 * aliases, earlier maps taking precedence over later ones (as YAML 1.1 defines it).
 */
function mergedEntries(file: YamlFile, value: Node | null): Map<string, SourcedEntry> {
  const sources = value && isSeq(value) ? (value.items as Node[]) : [value];
  const out = new Map<string, SourcedEntry>();
  for (const src of sources) {
    const s = toSourced(file, src);
    if (s.kind !== 'map') continue;
    for (const [k, e] of s.entries) if (!out.has(k)) out.set(k, e);
  }
  return out;
}

/** Builds the sourced tree of a YAML node. Aliases and merge keys are resolved; tags become plain values. */
export function toSourced(file: YamlFile, node: Node | null | undefined): Sourced {
  if (node && isMap(node)) {
    const explicit = new Map<string, SourcedEntry>();
    const merged = new Map<string, SourcedEntry>();
    for (const pair of node.items as Pair<Node, Node>[]) {
      if (isMergeKey(pair.key)) {
        // Keys written in the map itself win over merged ones, wherever the `<<` is.
        for (const [k, e] of mergedEntries(file, pair.value)) if (!merged.has(k)) merged.set(k, e);
        continue;
      }
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      explicit.set(key, { keyFile: file, keyNode: pair.key, value: toSourced(file, pair.value) });
    }
    return { kind: 'map', file, node, entries: new Map([...merged, ...explicit]) };
  }
  if (node && isSeq(node)) {
    return { kind: 'seq', file, node, items: (node.items as Node[]).map((n) => toSourced(file, n)) };
  }
  if (node && isAlias(node)) return toSourced(file, node.resolve(file.doc) as Node | undefined);
  return { kind: 'scalar', file, node: node ?? null, value: node ? (node as { toJSON(): unknown }).toJSON() : null };
}

/**
 * Merges an override onto a base the way float's includes do: maps merge
 * recursively, lists and scalars are replaced by the override.
 */
export function mergeSourced(base: Sourced, over: Sourced): Sourced {
  if (base.kind !== 'map' || over.kind !== 'map') return over;
  const entries = new Map(base.entries);
  for (const [k, e] of over.entries) {
    const prev = entries.get(k);
    entries.set(k, prev ? { ...e, value: mergeSourced(prev.value, e.value) } : e);
  }
  return { kind: 'map', file: over.file, node: over.node, entries };
}

/** The plain JavaScript value of a sourced tree. */
export function plain(s: Sourced): unknown {
  switch (s.kind) {
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [k, e] of s.entries) out[k] = plain(e.value);
      return out;
    }
    case 'seq':
      return s.items.map(plain);
    case 'scalar':
      return s.value;
  }
}

/** Walks a path of keys/indexes; returns the deepest sourced node reached and its entry. */
function walk(s: Sourced, path: readonly PropertyKey[]): { node: Sourced; entry?: SourcedEntry; complete: boolean } {
  let cur = s;
  let entry: SourcedEntry | undefined;
  for (const step of path) {
    if (cur.kind === 'map' && cur.entries.has(String(step))) {
      entry = cur.entries.get(String(step))!;
      cur = entry.value;
    } else if (cur.kind === 'seq' && typeof step === 'number' && cur.items[step]) {
      entry = undefined;
      cur = cur.items[step];
    } else {
      return { node: cur, entry, complete: false };
    }
  }
  return { node: cur, entry, complete: true };
}

/** Position of the value at `path` (or of its key, with `key: true`), falling back to the nearest ancestor. */
export function locate(s: Sourced, path: readonly PropertyKey[], opts: { key?: boolean } = {}): Position {
  const { node, entry, complete } = walk(s, path);
  if (opts.key && complete && entry) return positionOf(entry.keyFile, entry.keyNode);
  if (!complete && entry) return positionOf(entry.keyFile, entry.keyNode);
  return positionOf(node.file, node.node);
}

/** The sourced value at a path, if present. */
export function at(s: Sourced, path: readonly PropertyKey[]): Sourced | undefined {
  const r = walk(s, path);
  return r.complete ? r.node : undefined;
}
