// HTML building blocks of the dashboard. Every string that comes from the
// configuration passes through `esc` (text and attribute values alike: attributes
// are always double-quoted), and every page name through `pageName`, so a hostile
// service, host or annotation cannot inject markup, scripts or paths.
import { createHash } from 'node:crypto';

/** Escapes text for HTML text and double-quoted attribute values. */
export function esc(value: unknown): string {
  const named: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  // Characters beyond ASCII become numeric references: the site is pure ASCII (see tar.ts).
  return String(value).replace(/[&<>"']|[^\x00-\x7f]/gu, (c) => named[c] ?? `&#x${c.codePointAt(0)!.toString(16)};`);
}

/**
 * The file name (without extension) of a page about `name`: the name itself when it
 * is a plain token (letters, digits, dashes, underscores, starting with a letter or
 * digit, at most 80 characters), else `_` and a hash of it (never a clash with a
 * plain name: those cannot start with `_`).
 */
export function pageName(name: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/.test(name)) return name;
  return '_' + createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 32);
}

export const servicePage = (name: string): string => `services/${pageName(name)}.html`;
export const hostPage = (name: string): string => `hosts/${pageName(name)}.html`;

/** A link from a page at depth `root` ('' or '../') to a site path. */
export function link(root: string, path: string, text: string, cls?: string): string {
  return `<a href="${esc(root + path)}"${cls ? ` class="${esc(cls)}"` : ''}>${esc(text)}</a>`;
}

/** A table: `head` plain text, `rows` already HTML; `attrs` per row (already escaped attribute text). */
export function table(id: string, head: string[], rows: string[][], rowAttrs?: string[]): string {
  if (rows.length === 0) return `<p class="none" id="${esc(id)}">none</p>`;
  const th = head.map((h) => `<th scope="col">${esc(h)}</th>`).join('');
  const body = rows.map((r, i) => `<tr${rowAttrs?.[i] ? ' ' + rowAttrs[i] : ''}>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table id="${esc(id)}"><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A definition list of label -> HTML. */
export function facts(items: [string, string][]): string {
  return `<dl class="facts">${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

export const NAV: [string, string][] = [
  ['index.html', 'Overview'],
  ['services.html', 'Services'],
  ['hosts.html', 'Hosts'],
  ['endpoints.html', 'Endpoints and DNS'],
  ['graph.html', 'Dependencies'],
];

/** A whole page. `root` is the relative path back to the site's top ('' or '../'). */
export function page(opts: { title: string; root: string; body: string; fleet: string; current?: string; scope?: Record<string, string> }): string {
  const nav = NAV.map(([p, t]) => `<a href="${esc(opts.root + p)}"${p === opts.current ? ' aria-current="page"' : ''}>${esc(t)}</a>`).join('\n');
  const scope = Object.entries(opts.scope ?? {})
    .map(([k, v]) => ` data-${k}="${esc(v)}"`)
    .join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(opts.title)} &middot; ${esc(opts.fleet)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${esc(opts.root)}style.css">
<script src="${esc(opts.root)}live.js" defer></script>
</head>
<body data-root="${esc(opts.root)}"${scope}>
<header><span class="brand">float &middot; ${esc(opts.fleet)}</span>
<nav>
${nav}
</nav>
<span id="live-status" class="live" hidden></span></header>
<main>
<h1>${esc(opts.title)}</h1>
<section id="alerts" class="alerts" hidden><h2>Firing alerts</h2><ul></ul></section>
${opts.body}
</main>
</body>
</html>
`;
}
