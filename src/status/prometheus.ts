// Instant queries against Prometheus' HTTP API (GET /api/v1/query), either directly
// (a URL) or over SSH on the Prometheus host (curl to its localhost), reached as
// Ansible reaches it (src/ansible/ssh.ts). The command lines are built as data
// (pure); only `instantQuery` runs anything.
import { spawn } from 'node:child_process';
import { shellQuote, sshArgv } from '../ansible/ssh.js';
import { FloatUserError } from '../config/diagnostics.js';
import type { Model } from '../config/load.js';
import type { Host } from '../config/schema/host.js';

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export type Transport = { kind: 'url'; url: string } | { kind: 'ssh'; model: Model; host: Host; port: number };

/** The ssh argv that runs one query on the Prometheus host (its shell gets one quoted command line). */
export function sshQueryArgv(model: Model, host: Host, port: number, query: string): string[] {
  const remote = ['curl', '-sS', '--fail', '--max-time', '20', '--get', '--data-urlencode', `query=${query}`, `http://localhost:${port}/api/v1/query`]
    .map(shellQuote)
    .join(' ');
  return sshArgv(model, host, remote, ['-o', 'ConnectTimeout=10']);
}

/** Checks a /api/v1/query response body and returns its instant vector. */
export function parseVector(body: string, where: string): Sample[] {
  let j: unknown;
  try {
    j = JSON.parse(body);
  } catch {
    throw new FloatUserError(`${where}: the answer is not JSON (is this Prometheus' API?): ${body.slice(0, 120)}`, 'F2151');
  }
  const r = j as { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
  if (r.status !== 'success') throw new FloatUserError(`${where}: Prometheus answered ${r.status ?? 'no status'}: ${r.error ?? ''}`.trimEnd(), 'F2151');
  if (r.data?.resultType !== 'vector' || !Array.isArray(r.data.result)) {
    throw new FloatUserError(`${where}: expected an instant vector, got ${r.data?.resultType ?? 'nothing'}`, 'F2151');
  }
  return (r.data.result as Sample[]).filter((s) => s && typeof s.metric === 'object' && Array.isArray(s.value));
}

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? 1, stdout, stderr }));
  });
}

export async function instantQuery(t: Transport, query: string): Promise<Sample[]> {
  if (t.kind === 'url') {
    const url = `${t.url.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(20000) });
    } catch (err) {
      throw new FloatUserError(`cannot reach Prometheus at ${t.url}: ${(err as Error).cause ?? (err as Error).message}`, 'F2151');
    }
    const body = await res.text();
    if (!res.ok && !body.startsWith('{')) throw new FloatUserError(`Prometheus at ${t.url} answered HTTP ${res.status}`, 'F2151');
    return parseVector(body, `Prometheus at ${t.url}`);
  }
  const where = `Prometheus on ${t.host.name} (over ssh)`;
  const [ssh, ...args] = sshQueryArgv(t.model, t.host, t.port, query);
  let r;
  try {
    r = await run(ssh, args);
  } catch (err) {
    throw new FloatUserError(`cannot run ssh: ${(err as Error).message}`, 'F2041');
  }
  if (r.code !== 0) throw new FloatUserError(`${where}: ssh or curl failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-2).join(' ')}`, 'F2151');
  return parseVector(r.stdout, where);
}
