// YAML files with source positions, and "sourced" trees that remember, for every
// value, the file and node it came from, even after include/override merging.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Pair } from 'yaml';
import { FloatUserError, type Diagnostic, type Position } from './diagnostics.js';
import { constructTagged, resolvePlain, ScalarError } from './yaml11.js';
import { TYPED_KEYS, UnsafeString, VaultValue, YamlFloat, type WithTypedKeys } from './yaml-values.js';

export interface YamlFile {
  /** Absolute path. */
  path: string;
  /** The path as shown in messages (relative to the working directory when shorter). */
  display: string;
  doc: Document.Parsed;
  lines: LineCounter;
  /**
   * The text was decrypted from an Ansible Vault file: messages about it give the
   * file and a position, never its content.
   */
  decrypted?: boolean;
}

export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

function positionAt(file: YamlFile, offset: number | undefined): Position {
  const { line, col } = file.lines.linePos(offset ?? 0);
  return { file: file.display, line, col };
}

export function positionOf(file: YamlFile, node: Node | null | undefined): Position {
  return positionAt(file, node?.range?.[0] ?? 0);
}

/**
 * How many nodes aliases may add to one file, counting each alias as the whole
 * tree it stands for (the yaml library's maxAliasCount, as a node count). A
 * configuration that needs more is a "billion laughs", not a configuration.
 */
const MAX_ALIAS_NODES = 1_000_000;

/** Reads one YAML file from disk; see parseYamlText. */
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
  return parseYamlText(path, text, diags);
}

/**
 * Parses the YAML text of `path`. Syntax errors and repeated keys become
 * positioned diagnostics; the file is returned only when it parsed cleanly.
 * Scalars are not resolved here (the document is read with the failsafe
 * schema): toSourced resolves them as PyYAML does.
 */
export function parseYamlText(path: string, text: string, diags: Diagnostic[], opts: { decrypted?: boolean } = {}): YamlFile | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, version: '1.1', schema: 'failsafe', merge: false });
  const file: YamlFile = { path, display: displayPath(path), doc, lines, decrypted: opts.decrypted };
  for (const e of doc.errors) {
    const duplicate = e.code === 'DUPLICATE_KEY';
    const pos = positionAt(file, e.pos[0]);
    if (opts.decrypted) {
      // Never echo decrypted text: the error's kind and its position only.
      const what = duplicate ? 'key repeated in one mapping' : `YAML syntax error (${e.code})`;
      diags.push({ code: duplicate ? 'F1004' : 'F1000', severity: 'error', message: `${what} in the decrypted content (not shown)`, pos });
      continue;
    }
    const key = duplicate ? duplicateKeyAt(doc, e.pos[0]) : undefined;
    diags.push({
      code: duplicate ? 'F1004' : 'F1000',
      severity: 'error',
      message: duplicate ? `key ${key === undefined ? '' : `'${key}' `}repeated in one mapping` : `YAML syntax error: ${e.message.split('\n')[0]}`,
      pos,
    });
  }
  return doc.errors.length > 0 ? undefined : file;
}

/** The text of the repeated key the yaml library reports at `offset`. */
function duplicateKeyAt(doc: Document.Parsed, offset: number): string | undefined {
  let found: string | undefined;
  visit(doc, {
    Pair(_k, pair) {
      const key = pair.key as Node | null;
      if (key && key.range?.[0] === offset) {
        found = isScalar(key) ? String(key.value) : String(key);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
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
  /** The key as Ansible types it, when it is not a string (`10`, `yes`, `~`). */
  typedKey?: unknown;
}

/** Stops building a file's tree after its first fatal problem (its diagnostic is pushed). */
class Abort extends Error {}

const VAULT_TAGS = new Set(['!vault', '!vault-encrypted']);
/** Ansible's marker for text that must never be templated. */
const UNSAFE_TAG = '!unsafe';
const COLLECTION_TAGS = new Set(['tag:yaml.org,2002:map', 'tag:yaml.org,2002:seq']);
const SUPPORTED = 'float reads mappings, lists, strings, numbers, booleans, null, dates, !vault and !unsafe (Python-specific types such as !!set or !!binary have no place in an inventory)';

/**
 * Builds the sourced tree of one file. Each node is built once: an alias shares
 * the tree of its anchor (so the work is linear in the file, whatever the
 * aliases multiply), while the size the aliases stand for is counted against
 * MAX_ALIAS_NODES. An alias inside the node it names is a cycle.
 */
class Builder {
  private readonly built = new Map<Node, Sourced>();
  private readonly sizes = new WeakMap<Sourced, number>();
  private readonly building = new Set<Node>();
  private readonly targets = new Map<Node, Node | undefined>();
  private aliasNodes = 0;
  /** Whether the file has aliases at all: without, there is nothing to share, count or check. */
  private readonly aliases: boolean;

  constructor(
    private readonly file: YamlFile,
    private readonly diags: Diagnostic[],
  ) {
    // An alias names the last node with that anchor before it in document order
    // (the yaml library's Alias.resolve): one pass instead of one per alias.
    const anchors = new Map<string, Node>();
    visit(file.doc, {
      Node: (_k, n) => {
        if (isAlias(n)) this.targets.set(n, anchors.get(n.source));
        else if (n.anchor) anchors.set(n.anchor, n);
      },
    });
    this.aliases = this.targets.size > 0;
  }

  private fail(code: Diagnostic['code'], message: string, node: Node | null | undefined): never {
    this.diags.push({ code, severity: 'error', message, pos: positionOf(this.file, node) });
    throw new Abort();
  }

  private size(s: Sourced): number {
    return this.sizes.get(s) ?? 1;
  }

  build(node: Node | null | undefined): Sourced {
    if (!node) return { kind: 'scalar', file: this.file, node: null, value: null };
    if (isAlias(node)) return this.alias(node);
    // Only an anchored node can be reached twice (through an alias) or be part of a cycle.
    const shared = this.aliases && !!node.anchor;
    if (shared) {
      const done = this.built.get(node);
      if (done) return done;
      this.building.add(node);
    }
    const s = isMap(node) ? this.map(node) : isSeq(node) ? this.seq(node) : this.scalar(node);
    if (shared) {
      this.building.delete(node);
      this.built.set(node, s);
    }
    return s;
  }

  private alias(node: Node & { source: string }): Sourced {
    const target = this.targets.get(node);
    const name = this.file.decrypted ? 'an alias' : `alias '*${node.source}'`;
    if (!target) this.fail('F1042', `${name} names no anchor before it`, node);
    if (this.building.has(target)) this.fail('F1041', `${name} refers to a node that contains it (a cycle)`, node);
    const s = this.build(target);
    this.aliasNodes += this.size(s);
    if (this.aliasNodes > MAX_ALIAS_NODES) {
      this.fail('F1040', `aliases expand to more than ${MAX_ALIAS_NODES} nodes (at ${name}): refused as a resource exhaustion ("billion laughs")`, node);
    }
    return s;
  }

  private checkCollectionTag(node: Node): void {
    if (node.tag && !COLLECTION_TAGS.has(node.tag)) this.fail('F1043', `tag '${node.tag}' on a ${isMap(node) ? 'mapping' : 'list'} is not supported: ${SUPPORTED}`, node);
  }

  private map(node: Node): Sourced {
    this.checkCollectionTag(node);
    const explicit = new Map<string, SourcedEntry>();
    const merged = new Map<string, SourcedEntry>();
    let size = 1;
    for (const pair of (node as unknown as { items: Pair<Node, Node>[] }).items) {
      if (isScalar(pair.key) && pair.key.type === 'PLAIN' && !pair.key.tag && pair.key.value === '<<') {
        // Keys written in the map itself win over merged ones, wherever the `<<` is.
        for (const [k, e] of this.mergedEntries(pair.value)) if (!merged.has(k)) merged.set(k, e);
        continue;
      }
      // A plain `=` key is the string '=' (PyYAML's flatten_mapping); any other key is typed like a value.
      const valueKey = isScalar(pair.key) && pair.key.type === 'PLAIN' && !pair.key.tag && pair.key.value === '=';
      const keySourced = valueKey ? undefined : this.build(pair.key);
      const key = !keySourced ? '=' : keySourced.kind === 'scalar' ? String(keySourced.value) : String(pair.key);
      const k = keySourced?.kind === 'scalar' ? keySourced.value : undefined;
      const previous = explicit.get(key);
      if (previous) {
        // Two spellings of one key as Ansible reads them (`1` and `01`, `yes` and `true`), or a
        // string and a non-string key with the same text (`"20"` and `20`), which float cannot keep apart.
        const what = this.file.decrypted ? 'a key' : `key '${key}'`;
        const sameType = typeof previous.typedKey === typeof (typeof k === 'string' ? undefined : k);
        const why = sameType ? 'two spellings of the same key as Ansible reads YAML' : 'once as a string and once as a number, boolean or null: rename one';
        this.fail('F1004', `${what} repeated in one mapping (${why})`, pair.key);
      }
      const value = this.build(pair.value);
      const typed = k !== undefined && typeof k !== 'string' && !(k instanceof VaultValue) ? { typedKey: k } : {};
      explicit.set(key, { keyFile: this.file, keyNode: pair.key, value, ...typed });
    }
    const entries = merged.size > 0 ? new Map([...merged, ...explicit]) : explicit;
    const s: Sourced = { kind: 'map', file: this.file, node, entries };
    if (this.aliases) {
      for (const e of entries.values()) size += 1 + this.size(e.value);
      this.sizes.set(s, size);
    }
    return s;
  }

  /**
   * The entries a merge key brings in: the aliased map, or each map of a list of
   * aliases, earlier maps taking precedence over later ones (as YAML 1.1 defines it).
   */
  private mergedEntries(value: Node | null): Map<string, SourcedEntry> {
    const s = this.build(value);
    const out = new Map<string, SourcedEntry>();
    for (const m of s.kind === 'seq' ? s.items : [s]) {
      if (m.kind !== 'map') this.fail('F1044', "a merge key '<<' takes a mapping or a list of mappings", m.node ?? value);
      for (const [k, e] of m.entries) if (!out.has(k)) out.set(k, e);
    }
    return out;
  }

  private seq(node: Node): Sourced {
    this.checkCollectionTag(node);
    const items = (node as unknown as { items: Node[] }).items.map((n) => this.build(n));
    const s: Sourced = { kind: 'seq', file: this.file, node, items };
    if (this.aliases) this.sizes.set(s, items.reduce((n, i) => n + this.size(i), 1));
    return s;
  }

  private scalar(node: Node): Sourced {
    const text = isScalar(node) ? String(node.value ?? '') : '';
    const plainScalar = isScalar(node) && node.type === 'PLAIN';
    const tag = node.tag;
    let value: unknown;
    try {
      if (!tag) value = plainScalar ? resolvePlain(text) : text;
      else if (VAULT_TAGS.has(tag)) {
        // Ansible would fail only when the variable is used, possibly mid-run.
        if (!/^\$ANSIBLE_VAULT;[^\n]*\n\s*[0-9a-fA-F]/.test(text.trimStart())) this.fail('F1043', 'a !vault value must be the text ansible-vault encrypt_string writes ($ANSIBLE_VAULT;...)', node);
        value = new VaultValue(text);
      }
      else if (tag === UNSAFE_TAG) value = new UnsafeString(text);
      else if (tag === '!') value = text;
      else {
        value = constructTagged(tag, text);
        if (value === undefined) this.fail('F1043', `tag '${tag}' is not supported: ${SUPPORTED}`, node);
      }
    } catch (err) {
      if (!(err instanceof ScalarError)) throw err;
      const what = this.file.decrypted ? 'this value' : `'${text.length > 40 ? text.slice(0, 40) + '…' : text}'`;
      this.fail('F1043', `${what} cannot be read as Ansible reads YAML: ${err.message}`, node);
    }
    return { kind: 'scalar', file: this.file, node, value };
  }
}

/**
 * Builds the sourced tree of a YAML node: aliases and merge keys resolved,
 * scalars typed as Ansible (PyYAML) types them, inline `!vault` values kept as
 * VaultValue. Undefined (with the diagnostic pushed) when an alias is unknown,
 * cyclic or expands too far, or a scalar cannot be read.
 */
export function toSourced(file: YamlFile, node: Node | null | undefined, diags: Diagnostic[]): Sourced | undefined {
  try {
    return new Builder(file, diags).build(node);
  } catch (err) {
    if (err instanceof Abort) return undefined;
    throw err;
  }
}

/**
 * The value of YAML text decrypted from a vault file (read as Ansible reads it).
 * A text that does not parse is a FloatUserError naming the file and the
 * position only: the decrypted content is never shown.
 */
export function parseDecryptedYaml(path: string, text: string): unknown {
  const diags: Diagnostic[] = [];
  const file = parseYamlText(path, text, diags, { decrypted: true });
  const s = file && toSourced(file, file.doc.contents, diags);
  if (!s) throw new FloatUserError(diags);
  return plain(s);
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

/**
 * The plain JavaScript value of a sourced tree. `!unsafe` strings and integral
 * floats stay UnsafeString and YamlFloat (so the inventory gives Ansible what it
 * read) unless `forSchema` is set: attributes float reads itself take the
 * string and the number.
 */
export function plain(s: Sourced, opts: { forSchema?: boolean } = {}): unknown {
  switch (s.kind) {
    case 'map': {
      const out: WithTypedKeys = {};
      for (const [k, e] of s.entries) {
        out[k] = plain(e.value, opts);
        if (!opts.forSchema && 'typedKey' in e) (out[TYPED_KEYS] ??= new Map()).set(k, e.typedKey);
      }
      return out;
    }
    case 'seq':
      return s.items.map((i) => plain(i, opts));
    case 'scalar':
      if (!opts.forSchema) return s.value;
      return s.value instanceof UnsafeString ? s.value.value : s.value instanceof YamlFloat ? s.value.value : s.value;
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
