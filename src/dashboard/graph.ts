// The dependency graph: its edges (from annotations.dependencies, plus the frontend's
// routes to services with public endpoints), a deterministic layered layout and its
// SVG. No library and no randomness: the same services always draw the same picture.
import type { Service } from '../config/schema/service.js';
import { byCodePoint } from '../inventory/names.js';
import { dependencyEnd } from './check.js';
import { esc, pageName } from './html.js';

export interface GraphEdge {
  /** Service of the client end (`svc/entity` names a service; a bare entity is the declaring service's). */
  from: string;
  to: string;
  client: string;
  server: string;
  /** The service whose annotations declare it (absent for derived edges). */
  declaredBy?: string;
  kind: 'declared' | 'derived';
}

export interface Graph {
  /** Every service, sorted, then any service an edge names that does not exist (external). */
  nodes: { name: string; external: boolean }[];
  edges: GraphEdge[];
}

/** The graph's edges: every declared dependency, in declaration order, then the derived ones. */
export function dependencyGraph(services: Service[]): Graph {
  const names = new Set(services.map((s) => s.name));
  const edges: GraphEdge[] = [];
  for (const s of services) {
    for (const d of s.annotations.dependencies ?? []) {
      const c = dependencyEnd(d.client, s.name);
      const v = dependencyEnd(d.server, s.name);
      edges.push({ from: c.service, to: v.service, client: c.entity, server: v.entity, declaredBy: s.name, kind: 'declared' });
    }
  }
  if (names.has('frontend')) {
    for (const s of services) {
      if (s.name === 'frontend') continue;
      if (s.public_endpoints.length + s.public_tcp_endpoints.length + s.horizontal_endpoints.length === 0) continue;
      edges.push({ from: 'frontend', to: s.name, client: 'frontend', server: s.name, kind: 'derived' });
    }
  }
  const external = [...new Set(edges.flatMap((e) => [e.from, e.to]).filter((n) => !names.has(n)))].sort(byCodePoint);
  return {
    nodes: [...services.map((s) => ({ name: s.name, external: false })), ...external.map((name) => ({ name, external: true }))],
    edges,
  };
}

export interface Placed {
  name: string;
  external: boolean;
  x: number;
  y: number;
  w: number;
  h: number;
}

const NODE_H = 34;
const LAYER_GAP = 96;
const NODE_GAP = 48;
const MARGIN = 24;
const ISOLATED_PER_ROW = 5;

const nodeWidth = (name: string): number => Math.max(96, Math.round(name.length * 7.6 + 28));

/**
 * Layered layout: clients above their servers. Cycles are broken by a greedy order
 * (edges backwards in it do not constrain layers); a node's layer is the longest path
 * to it; nodes in a layer are ordered by a few barycentre
 * sweeps (ties by name). Nodes with no edge go in rows below.
 */
export function layout(g: Graph): { nodes: Placed[]; width: number; height: number } {
  const names = g.nodes.map((n) => n.name);
  const succ = new Map<string, string[]>(names.map((n) => [n, []]));
  const linked = new Set<string>();
  for (const e of g.edges) {
    if (e.from === e.to) continue;
    linked.add(e.from).add(e.to);
    const l = succ.get(e.from)!;
    if (!l.includes(e.to)) l.push(e.to);
  }
  for (const l of succ.values()) l.sort(byCodePoint);
  // An order that leaves few edges pointing backwards (Eades, Lin and Smyth's greedy
  // heuristic for a small feedback arc set; ties by name): sinks go last, sources
  // first, else the node with the most outgoing minus incoming edges. Edges backwards
  // in that order do not constrain the layers.
  const preds0 = new Map<string, Set<string>>(names.map((n) => [n, new Set()]));
  for (const [n, l] of succ) for (const m of l) preds0.get(m)!.add(n);
  const left = new Set(names);
  const outIn = (n: string, dir: 'out' | 'in'): number => [...(dir === 'out' ? succ.get(n)! : preds0.get(n)!)].filter((m) => left.has(m) && m !== n).length;
  const head: string[] = [];
  const tail: string[] = [];
  while (left.size > 0) {
    let moved = true;
    while (moved) {
      moved = false;
      for (const n of [...left].sort(byCodePoint)) {
        if (outIn(n, 'out') === 0) {
          tail.unshift(n);
          left.delete(n);
          moved = true;
        } else if (outIn(n, 'in') === 0) {
          head.push(n);
          left.delete(n);
          moved = true;
        }
      }
    }
    if (left.size === 0) break;
    const pick = [...left].sort((a, b) => outIn(b, 'out') - outIn(b, 'in') - (outIn(a, 'out') - outIn(a, 'in')) || byCodePoint(a, b))[0];
    head.push(pick);
    left.delete(pick);
  }
  const rank = new Map([...head, ...tail].map((n, i) => [n, i]));
  const dag = new Map<string, string[]>(names.map((n) => [n, succ.get(n)!.filter((m) => rank.get(m)! > rank.get(n)!)]));
  // Longest-path layers in topological order (Kahn, name order).
  const indeg = new Map<string, number>(names.map((n) => [n, 0]));
  for (const l of dag.values()) for (const m of l) indeg.set(m, indeg.get(m)! + 1);
  const layerOf = new Map<string, number>(names.map((n) => [n, 0]));
  const ready = names.filter((n) => indeg.get(n) === 0);
  while (ready.length > 0) {
    ready.sort(byCodePoint);
    const n = ready.shift()!;
    for (const m of dag.get(n)!) {
      layerOf.set(m, Math.max(layerOf.get(m)!, layerOf.get(n)! + 1));
      indeg.set(m, indeg.get(m)! - 1);
      if (indeg.get(m) === 0) ready.push(m);
    }
  }
  const connected = names.filter((n) => linked.has(n));
  const layers: string[][] = [];
  for (const n of connected) (layers[layerOf.get(n)!] ??= []).push(n);
  for (let i = 0; i < layers.length; i++) layers[i] ??= [];
  // Barycentre sweeps.
  const pos = new Map<string, number>();
  const renumber = (): void => layers.forEach((l) => l.forEach((n, i) => pos.set(n, i)));
  renumber();
  const preds = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const [n, l] of succ) for (const m of l) preds.get(m)!.push(n);
  const bary = (n: string, nb: string[]): number => {
    const ps = nb.filter((m) => pos.has(m)).map((m) => pos.get(m)!);
    return ps.length ? ps.reduce((a, b) => a + b, 0) / ps.length : pos.get(n)!;
  };
  for (let sweep = 0; sweep < 4; sweep++) {
    const down = sweep % 2 === 0;
    const order = down ? layers.map((_, i) => i) : layers.map((_, i) => layers.length - 1 - i);
    for (const i of order) {
      const keyed = layers[i].map((n) => ({ n, k: bary(n, down ? preds.get(n)! : succ.get(n)!), p: pos.get(n)! }));
      keyed.sort((a, b) => a.k - b.k || a.p - b.p || byCodePoint(a.n, b.n));
      layers[i] = keyed.map((x) => x.n);
      renumber();
    }
  }
  const ext = new Map(g.nodes.map((n) => [n.name, n.external]));
  const placed: Placed[] = [];
  const rowWidth = (row: string[]): number => row.reduce((a, n) => a + nodeWidth(n), 0) + NODE_GAP * Math.max(0, row.length - 1);
  const isolated = names.filter((n) => !linked.has(n));
  const rows: string[][] = [...layers];
  for (let i = 0; i < isolated.length; i += ISOLATED_PER_ROW) rows.push(isolated.slice(i, i + ISOLATED_PER_ROW));
  const inner = Math.max(200, ...rows.map(rowWidth));
  rows.forEach((row, r) => {
    let x = MARGIN + (inner - rowWidth(row)) / 2;
    // Isolated rows sit a little further down, under a caption.
    const y = MARGIN + r * LAYER_GAP + (r >= layers.length && layers.length > 0 ? 40 : 0);
    for (const n of row) {
      placed.push({ name: n, external: ext.get(n) ?? false, x, y, w: nodeWidth(n), h: NODE_H });
      x += nodeWidth(n) + NODE_GAP;
    }
  });
  const height = MARGIN * 2 + Math.max(0, rows.length - 1) * LAYER_GAP + NODE_H + (isolated.length && layers.length ? 40 : 0);
  return { nodes: placed, width: Math.round(inner + MARGIN * 2), height: Math.round(height) };
}

const f = (v: number): string => (Math.round(v * 10) / 10).toString();

/** The graph as an inline SVG element; nodes link to their service pages (relative to `root`). */
export function graphSvg(g: Graph, root: string): string {
  const { nodes, width, height } = layout(g);
  const at = new Map(nodes.map((n) => [n.name, n]));
  const seen = new Map<string, number>();
  const paths = g.edges.map((e) => {
    const a = at.get(e.from)!;
    const b = at.get(e.to)!;
    const key = `${e.from}\0${e.to}`;
    const k = seen.get(key) ?? 0;
    seen.set(key, k + 1);
    const off = k * 14;
    let d: string;
    if (e.from === e.to) {
      const x = a.x + a.w;
      const y = a.y + a.h / 2;
      d = `M${f(x)} ${f(y - 8)} C${f(x + 40 + off)} ${f(y - 30 - off)} ${f(x + 40 + off)} ${f(y + 30 + off)} ${f(x)} ${f(y + 8)}`;
    } else if (b.y > a.y) {
      const x1 = a.x + a.w / 2 + off;
      const y1 = a.y + a.h;
      const x2 = b.x + b.w / 2 + off;
      const y2 = b.y;
      const dy = (y2 - y1) / 2;
      d = `M${f(x1)} ${f(y1)} C${f(x1)} ${f(y1 + dy)} ${f(x2)} ${f(y2 - dy)} ${f(x2)} ${f(y2)}`;
    } else if (b.y < a.y) {
      const x1 = a.x + a.w / 2 + off;
      const y1 = a.y;
      const x2 = b.x + b.w / 2 + off;
      const y2 = b.y + b.h;
      const dy = (y1 - y2) / 2;
      d = `M${f(x1)} ${f(y1)} C${f(x1 + 60)} ${f(y1 - dy)} ${f(x2 + 60)} ${f(y2 + dy)} ${f(x2)} ${f(y2)}`;
    } else {
      const x1 = a.x + a.w / 2;
      const x2 = b.x + b.w / 2;
      const y = a.y + a.h;
      d = `M${f(x1)} ${f(y)} C${f(x1)} ${f(y + 40 + off)} ${f(x2)} ${f(y + 40 + off)} ${f(x2)} ${f(y)}`;
    }
    const title =
      e.kind === 'declared'
        ? `${e.from}/${e.client} \u2192 ${e.to}/${e.server} (declared by ${e.declaredBy})`
        : `${e.from} routes public traffic to ${e.to}`;
    return `<path class="edge ${e.kind}" data-from="${esc(e.from)}" data-to="${esc(e.to)}" d="${d}" marker-end="url(#arrow)"><title>${esc(title)}</title></path>`;
  });
  const boxes = nodes.map((n) => {
    const label = `<rect x="${f(n.x)}" y="${f(n.y)}" width="${f(n.w)}" height="${f(n.h)}" rx="6"/><text x="${f(n.x + n.w / 2)}" y="${f(n.y + n.h / 2 + 5)}" text-anchor="middle">${esc(n.name)}</text>`;
    if (n.external) return `<g class="node external" data-service="${esc(n.name)}"><title>${esc(n.name)}: not a service of this configuration</title>${label}</g>`;
    return `<g class="node service" data-service="${esc(n.name)}"><a href="${esc(root + 'services/' + pageName(n.name) + '.html')}"><title>${esc(n.name)}</title>${label}</a></g>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" id="dependency-graph" role="img" aria-label="service dependency graph" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z"/></marker></defs>
${paths.join('\n')}
${boxes.join('\n')}
</svg>`;
}
