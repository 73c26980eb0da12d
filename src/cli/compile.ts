// float compile: write the Ansible inventory for the configuration.
import type { Command } from 'commander';
import { formatDiagnostic } from '../config/diagnostics.js';
import { compile } from '../compile.js';
import { withConfigLock } from '../lock.js';
import { configOption, noWaitOption } from './options.js';

export function register(program: Command): void {
  program
    .command('compile')
    .description('compile the configuration into a static Ansible inventory (default: .float/inventory next to config.yml)')
    .addOption(configOption())
    .option('-o, --out <dir>', 'write the inventory here')
    .addOption(noWaitOption())
    .action(async (opts: { config: string; out?: string; wait: boolean }) => {
      const t0 = performance.now();
      const r = await withConfigLock(opts.config, { command: 'float compile', noWait: !opts.wait }, () => compile(opts.config, { out: opts.out }));
      for (const d of r.plan.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      const ms = Math.round(performance.now() - t0);
      process.stdout.write(
        `compiled ${r.plan.model.services.length} services on ${r.plan.model.hosts.length} hosts into ${r.outDir} (${r.files} files, ${ms} ms)\n`,
      );
    });
}
