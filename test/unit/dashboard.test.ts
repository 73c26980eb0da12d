// The dashboard's pure parts: escaping, page names, the dependency graph and its
// layout, and the tar archive (read back with GNU tar).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Service } from '../../src/config/schema/service.js';
import { service } from '../../src/config/schema/service.js';
import { dependencyGraph, graphSvg, layout } from '../../src/dashboard/graph.js';
import { esc, pageName } from '../../src/dashboard/html.js';
import { tarArchive } from '../../src/dashboard/tar.js';

const svc = (name: string, attrs: Record<string, unknown> = {}): Service => ({ name, ...service.parse(attrs) });

describe('esc and pageName', () => {
  it('escapes markup and quotes, and everything beyond ASCII as character references', () => {
    expect(esc(`<a href="x" onclick='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
    expect(esc('café → 😀')).toBe('caf&#xe9; &#x2192; &#x1f600;');
    expect(esc('plain-name_1')).toBe('plain-name_1');
  });
  it('keeps plain names and hashes the rest (never a path, never a clash with a plain name)', () => {
    expect(pageName('web-1')).toBe('web-1');
    for (const bad of ['../etc', 'a/b', '.hidden', '', 'x'.repeat(81), '<script>', '_x']) {
      const n = pageName(bad);
      expect(n).toMatch(/^_[0-9a-f]{32}$/);
    }
    expect(pageName('a/b')).not.toBe(pageName('a/c'));
  });
});

describe('the dependency graph', () => {
  const services = [
    svc('web', { annotations: { dependencies: [{ client: 'app', server: 'db/pg' }, { client: 'app', server: 'cache' }, { client: 'app', server: 'auth/sso' }] } }),
    svc('db', { annotations: { dependencies: [{ client: 'pg', server: 'web/app' }] } }), // a cycle with web
    svc('auth', { annotations: { dependencies: [{ client: 'sso', server: 'db/pg' }] } }),
    svc('frontend'),
    svc('lonely'),
    svc('api', { public_endpoints: [{ name: 'api', port: 80 }], annotations: { dependencies: [{ client: 'x', server: 'nowhere/y' }] } }),
  ].sort((a, b) => (a.name < b.name ? -1 : 1));

  it('has an edge per declared dependency, resolved to services, plus the frontend routes', () => {
    const g = dependencyGraph(services);
    expect(g.edges.filter((e) => e.kind === 'declared').map((e) => `${e.from}>${e.to}`)).toEqual(['api>nowhere', 'auth>db', 'db>web', 'web>db', 'web>web', 'web>auth']);
    expect(g.edges.filter((e) => e.kind === 'derived').map((e) => `${e.from}>${e.to}`)).toEqual(['frontend>api']);
    expect(g.nodes.filter((n) => n.external).map((n) => n.name)).toEqual(['nowhere']);
    expect(g.nodes.filter((n) => !n.external)).toHaveLength(services.length);
  });

  it('lays out deterministically: clients above servers (outside cycles), no overlapping boxes', () => {
    const g = dependencyGraph(services);
    const a = layout(g);
    expect(layout(dependencyGraph([...services].reverse().sort((x, y) => (x.name < y.name ? -1 : 1))))).toEqual(a);
    const at = Object.fromEntries(a.nodes.map((n) => [n.name, n]));
    expect(at.frontend.y).toBeLessThan(at.api.y);
    expect(at.api.y).toBeLessThan(at.nowhere.y);
    // web -> auth -> db -> web is a cycle (web -> db too): one edge of it must point up, the others down.
    const cycle = g.edges.filter((e) => ['web', 'auth', 'db'].includes(e.from) && e.from !== e.to && e.to !== 'nowhere');
    expect(cycle.filter((e) => at[e.from].y < at[e.to].y).length).toBe(cycle.length - 1);
    // lonely has no edge: in the rows below the graph.
    expect(at.lonely.y).toBeGreaterThan(Math.max(...a.nodes.filter((n) => n.name !== 'lonely').map((n) => n.y)));
    for (const p of a.nodes)
      for (const q of a.nodes) {
        if (p === q) continue;
        const apart = p.x + p.w <= q.x || q.x + q.w <= p.x || p.y + p.h <= q.y || q.y + q.h <= p.y;
        expect(apart, `${p.name} overlaps ${q.name}`).toBe(true);
      }
    for (const n of a.nodes) {
      expect(n.x + n.w).toBeLessThanOrEqual(a.width);
      expect(n.y + n.h).toBeLessThanOrEqual(a.height);
    }
  });

  it('draws one path per edge and one linked node per service, names escaped', () => {
    const svg = graphSvg(dependencyGraph([svc('a', { annotations: { dependencies: [{ client: 'x', server: '<b>/y' }] } })]), '');
    expect(svg.match(/<path class="edge/g)).toHaveLength(1);
    expect(svg).toContain('data-service="&lt;b&gt;"');
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('<a href="services/a.html">');
  });
});

describe('the tar archive', () => {
  it('is read back by GNU tar with the same names and contents, and is deterministic', () => {
    const long = `services/${'d'.repeat(60)}/${'x'.repeat(90)}.html`;
    const files = new Map([
      ['index.html', '<!DOCTYPE html>\n'],
      ['services/web.html', 'a'.repeat(1025)],
      ['empty.css', ''],
      [long, 'long name\n'],
    ]);
    const text = tarArchive(files);
    expect(tarArchive(files)).toBe(text);
    expect(text.length % 512).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'float-tar-'));
    writeFileSync(join(dir, 'site.tar'), text);
    const list = spawnSync('tar', ['-tf', join(dir, 'site.tar')], { encoding: 'utf8' });
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout.trim().split('\n')).toEqual([...files.keys()]);
    const x = spawnSync('tar', ['-xf', join(dir, 'site.tar'), '-C', dir], { encoding: 'utf8' });
    expect(x.status, x.stderr).toBe(0);
    for (const [name, body] of files) expect(readFileSync(join(dir, name), 'utf8')).toBe(body);
    expect(() => tarArchive(new Map([['x.html', 'caf\u00e9']]))).toThrow(/not ASCII/);
  });
});
