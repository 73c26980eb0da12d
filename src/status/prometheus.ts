// Instant queries against Prometheus' HTTP API (GET /api/v1/query), either directly
// (a URL) or over SSH on the Prometheus host (curl to its localhost). The command
// lines are built as data (pure); only `instantQuery` runs anything.
import { spawn } from 'node:child_process';
import { FloatUserError } from '../config/diagnostics.js';

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export type Transport = { kind: 'url'; url: string } | { kind: 'ssh'; target: string; user?: string; port: number };

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The ssh argv that runs one query on the Prometheus host (its shell gets one quoted command line). */
export function sshQueryArgv(t: { target: string; user?: string; port: number }, query: string): string[] {
  const remote = ['curl', '-sS', '--fail', '--max-time', '20', '--get', '--data-urlencode', `query=${query}`, `http://localhost:${t.port}/api/v1/query`]
    .map(shq)
    .join(' ');
  return ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', ...(t.user ? ['-l', t.user] : []), '--', t.target, remote];
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
  const where = `Prometheus on ${t.target} (over ssh)`;
  let r;
  try {
    r = await run('ssh', sshQueryArgv(t, query));
  } catch (err) {
    throw new FloatUserError(`cannot run ssh: ${(err as Error).message}`, 'F2041');
  }
  if (r.code !== 0) throw new FloatUserError(`${where}: ssh or curl failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-2).join(' ')}`, 'F2151');
  return parseVector(r.stdout, where);
}
