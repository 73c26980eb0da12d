// Writes assigned overlay addresses into a hosts file's text, keeping everything
// else as written (comments, order, quoting, flow or block style). A host written
// as a block mapping gets one new line after its last attribute, at the
// attribute's indentation; otherwise the `yaml` package's Document API edits the
// parsed document. Either way the result is read back: exactly the new keys must
// have been added.
import { isMap, parse, parseDocument, type Document, type Node } from 'yaml';
import type { Assignment } from './overlay.js';

type Hosts = { hosts: Record<string, Record<string, unknown>> };

function addedExactly(before: string, after: string, assignments: Assignment[]): boolean {
  try {
    const b = parse(before, { version: '1.1' }) as Hosts;
    const a = parse(after, { version: '1.1' }) as Hosts;
    for (const x of assignments) {
      if (a.hosts?.[x.host]?.[`ip_${x.overlay}`] !== x.address) return false;
      delete a.hosts[x.host][`ip_${x.overlay}`];
    }
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

/** Line insertions into block mappings (of `doc`, parsed from `text`), or undefined when some host is not written as one. */
function byLines(text: string, doc: Document, assignments: Assignment[]): string | undefined {
  const inserts: Array<{ at: number; line: string }> = [];
  for (const a of assignments) {
    const node = doc.getIn(['hosts', a.host], true);
    if (!isMap(node) || node.items.length === 0) return undefined;
    if (node.flow) {
      // `{ips: [...], groups: [...]}` -> `{ips: [...], groups: [...], ip_net: ADDR}`
      const close = node.range ? text.lastIndexOf('}', node.range[1]) : -1;
      if (close < 0) return undefined;
      inserts.push({ at: close, line: `, ip_${a.overlay}: ${a.address}` });
      continue;
    }
    const first = node.items[0].key as Node;
    const last = node.items[node.items.length - 1];
    const end = ((last.value as Node | null)?.range ?? (last.key as Node).range)?.[1];
    if (!first.range || end === undefined) return undefined;
    const indent = first.range[0] - (text.lastIndexOf('\n', first.range[0] - 1) + 1);
    if (!/^ *$/.test(text.slice(first.range[0] - indent, first.range[0]))) return undefined;
    const nl = text.indexOf('\n', Math.max(end - 1, 0));
    inserts.push({ at: nl < 0 ? text.length : nl + 1, line: `${' '.repeat(indent)}ip_${a.overlay}: ${a.address}\n` });
  }
  let out = text.endsWith('\n') ? text : text + '\n';
  for (const i of inserts.sort((x, y) => y.at - x.at)) out = out.slice(0, i.at) + i.line + out.slice(i.at);
  return out;
}

export function withOverlayAddresses(path: string, text: string, assignments: Assignment[]): string {
  const doc = parseDocument(text, { version: '1.1' });
  if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0].message}`);
  for (const a of assignments) {
    const node = doc.getIn(['hosts', a.host], true);
    if (!isMap(node)) throw new Error(`${path}: host '${a.host}' is not written as a mapping under 'hosts'`);
    if (node.has(`ip_${a.overlay}`)) throw new Error(`${path}: host '${a.host}' already has ip_${a.overlay}`);
  }
  const lines = byLines(text, doc, assignments);
  if (lines !== undefined && addedExactly(text, lines, assignments)) return lines;
  for (const a of assignments) (doc.getIn(['hosts', a.host], true) as { set(k: string, v: string): void }).set(`ip_${a.overlay}`, a.address);
  const edited = doc.toString({ flowCollectionPadding: false });
  if (addedExactly(text, edited, assignments)) return edited;
  throw new Error(`${path}: cannot add the overlay addresses without changing other values; add them by hand: ${assignments.map((a) => `${a.host} ip_${a.overlay}: ${a.address}`).join(', ')}`);
}
