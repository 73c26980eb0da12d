// float init-credentials: create or update everything in credentials_dir.
import type { Command } from 'commander';
import { formatDiagnostic } from '../config/diagnostics.js';
import { prepare } from '../prepare.js';
import { configOption } from './options.js';

export function register(program: Command): void {
  program
    .command('init-credentials')
    .description('create or update the CA, certificates, SSH CA and application secrets in credentials_dir')
    .addOption(configOption())
    .action(async (opts: { config: string }) => {
      const t0 = performance.now();
      const p = await prepare(opts.config);
      for (const d of p.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      const c = p.credentials;
      const lines = [
        `credentials in ${p.plan.model.config.credentials_dir}:`,
        `  certificates: ${c.certsIssued} issued, ${c.certsKept} unchanged`,
        `  secrets: ${c.secretsGenerated.length} generated${c.secretsGenerated.length ? ` (${c.secretsGenerated.join(', ')})` : ''}`,
      ];
      if (c.certsStale.length) lines.push(`  kept ${c.certsStale.length} certificates no longer needed: ${c.certsStale.join(', ')}`);
      if (c.secretsOrphaned.length) {
        lines.push(`  kept ${c.secretsOrphaned.length} secrets no longer in passwords.yml: ${c.secretsOrphaned.join(', ')}`);
      }
      lines.push(`  inventory: ${p.inventoryDir} (${Math.round(performance.now() - t0)} ms)`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
