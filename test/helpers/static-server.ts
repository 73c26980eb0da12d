// A static file server on loopback for a rendered site, optionally passing
// /api/v1/ requests to an upstream (Prometheus), as the frontend does.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.js': 'text/javascript', '.png': 'image/png' };

export async function serveSite(dir: string, upstream?: string): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const api = u.pathname.indexOf('/api/v1/');
    if (api >= 0 && upstream) {
      const up = request(`${upstream}${u.pathname.slice(api)}${u.search}`, { method: req.method }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.writeHead(502).end());
      up.end();
      return;
    }
    const rel = normalize(decodeURIComponent(u.pathname)).replace(/^\/+/, '') || 'index.html';
    const p = join(dir, rel);
    if (rel.startsWith('..') || !existsSync(p) || !statSync(p).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(p)] ?? 'application/octet-stream' });
    createReadStream(p).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, server, close: () => new Promise((r) => server.close(() => r())) };
}
