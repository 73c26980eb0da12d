// A real Prometheus on loopback for tests: scrapes itself and a dead target every
// second, with labels naming float service instances, and fires an alert for the
// dead one. No mock: the API answers are Prometheus' own.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function prometheusMissing(): string | undefined {
  return spawnSync('prometheus', ['--version']).status === 0 ? undefined : 'prometheus is not installed';
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

export interface TestPrometheus {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A live target labelled {service: upAs.service, host: upAs.host} (Prometheus itself), and, with `downAs`, a dead one. */
export async function startPrometheus(upAs: { service: string; host: string }, downAs?: { service: string; host: string }): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'float-prometheus-'));
  const port = await freePort();
  const dead = await freePort();
  writeFileSync(
    join(dir, 'rules.yml'),
    `groups:
  - name: test
    rules:
      - alert: ServiceInstanceDown
        expr: up == 0
        labels:
          severity: page
`,
  );
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [${JSON.stringify(join(dir, 'rules.yml'))}]
scrape_configs:
  - job_name: live
    static_configs:
      - targets: ['127.0.0.1:${port}']
        labels: {service: ${JSON.stringify(upAs.service)}, host: ${JSON.stringify(upAs.host)}}
${
  downAs
    ? `  - job_name: dead
    static_configs:
      - targets: ['127.0.0.1:${dead}']
        labels: {service: ${JSON.stringify(downAs.service)}, host: ${JSON.stringify(downAs.host)}}
`
    : ''
}`,
  );
  const child: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when the targets have been scraped and (with a dead one) the alert fires.
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const up = await (await fetch(`${url}/api/v1/query?query=up`)).json();
      const al = await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent('ALERTS{alertstate="firing"}')}`)).json();
      const alertsReady = downAs ? al.data.result.length === 1 : al.status === 'success';
      if (up.data.result.length === (downAs ? 2 : 1) && up.data.result.every((r: { value: string[] }) => r.value) && alertsReady) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready: ${stderr.slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return { url, port, stop };
}
