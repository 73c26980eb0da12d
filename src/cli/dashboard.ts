// float dashboard: render the admin dashboard into a local directory for a look
// before deploying (float compile also renders it into the inventory, for the frontends).
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { formatDiagnostic } from '../config/diagnostics.js';
import { renderDashboard } from '../dashboard/site.js';
import { writeSite } from '../dashboard/write.js';
import { plan } from '../plan.js';
import { configOption } from './options.js';

export function defaultDashboardDir(configPath: string): string {
  return join(dirname(resolve(configPath)), '.float', 'dashboard');
}

export function register(program: Command): void {
  program
    .command('dashboard')
    .description('render the admin dashboard (services, hosts, endpoints, DNS, dependency graph) as a static site (default: .float/dashboard next to config.yml)')
    .addOption(configOption())
    .option('-o, --out <dir>', 'write the site here')
    .option('--open', 'open index.html with xdg-open afterwards')
    .action((opts: { config: string; out?: string; open?: boolean }) => {
      const p = plan(opts.config);
      for (const d of p.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      const out = resolve(opts.out ?? defaultDashboardDir(opts.config));
      const n = writeSite(renderDashboard(p.model, p.schedule), out);
      const index = join(out, 'index.html');
      process.stdout.write(`wrote the dashboard (${n} files) to ${out}; open ${index}\n`);
      if (opts.open) {
        const child = spawn('xdg-open', [index], { stdio: 'ignore', detached: true });
        child.on('error', () => process.stderr.write(`cannot run xdg-open: open ${index} in a browser\n`));
        child.unref();
      }
    });
}
