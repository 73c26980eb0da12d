// float status: instances up/down per service and host, and the firing alerts,
// from Prometheus' HTTP API: on the host running the Prometheus service over SSH
// (curl to its localhost), or at --url.
import type { Command } from 'commander';
import { FloatUserError, formatDiagnostic } from '../config/diagnostics.js';
import { plan } from '../plan.js';
import { instantQuery, type Transport } from '../status/prometheus.js';
import { formatStatus, statusReport } from '../status/report.js';
import type { SetExitCode } from './commands.js';
import { configOption } from './options.js';

export function register(program: Command, setExitCode: SetExitCode): void {
  program
    .command('status')
    .description("show which service instances are up and which alerts fire, from Prometheus' HTTP API; exit 1 when an instance is down or an alert fires")
    .addOption(configOption())
    .option('--json', 'print the report as JSON')
    .option('--url <url>', "Prometheus' base URL, queried directly instead of over SSH")
    .option('--service <name>', 'the service running Prometheus', 'prometheus')
    .option('--port <port>', "Prometheus' port on its host (over SSH)", '9090')
    .action(async (opts: { config: string; json?: boolean; url?: string; service: string; port: string }) => {
      const p = plan(opts.config);
      for (const d of p.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new FloatUserError(`--port ${JSON.stringify(opts.port)} is not a port number`, 'F2040');
      let transport: Transport;
      if (opts.url) {
        if (!/^https?:\/\/[^\s]+$/.test(opts.url)) throw new FloatUserError(`--url ${JSON.stringify(opts.url)} is not an http(s) URL`, 'F2040');
        transport = { kind: 'url', url: opts.url };
      } else {
        const name = (p.schedule.assignments[opts.service] ?? [])[0];
        const host = p.model.hosts.find((h) => h.name === name);
        if (!host) {
          throw new FloatUserError(`no host runs the service '${opts.service}' (Prometheus): give --service NAME or --url URL`, 'F2152');
        }
        transport = { kind: 'ssh', model: p.model, host, port };
      }
      const [up, alerts] = await Promise.all([instantQuery(transport, 'up'), instantQuery(transport, 'ALERTS{alertstate="firing"}')]);
      const report = statusReport(
        p.schedule,
        p.model.services.map((s) => s.name),
        up,
        alerts,
      );
      process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatStatus(report));
      if (report.summary.down > 0 || report.summary.alerts > 0) setExitCode(1);
    });
}
