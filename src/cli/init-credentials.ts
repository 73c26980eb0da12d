// float init-credentials: create or update everything in credentials_dir.
import type { Command } from 'commander';
import { formatDiagnostic } from '../config/diagnostics.js';
import { formatCredentialsReport } from '../credentials/index.js';
import { withConfigLock } from '../lock.js';
import { prepare } from '../prepare.js';
import { configOption, noWaitOption } from './options.js';

export function register(program: Command): void {
  program
    .command('init-credentials')
    .description('create or update the CA, certificates, SSH CA and application secrets in credentials_dir')
    .addOption(configOption())
    .addOption(noWaitOption())
    .action(async (opts: { config: string; wait: boolean }) => {
      const t0 = performance.now();
      const p = await withConfigLock(opts.config, { command: 'float init-credentials', noWait: !opts.wait }, () => prepare(opts.config));
      for (const d of p.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      const lines = formatCredentialsReport(p.plan.model.config.credentials_dir, p.credentials);
      lines.push(`  inventory: ${p.inventoryDir} (${Math.round(performance.now() - t0)} ms)`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
