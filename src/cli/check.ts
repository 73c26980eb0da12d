// float check: load, validate and schedule the configuration; report every problem.
import type { Command } from 'commander';
import { formatDiagnostic } from '../config/diagnostics.js';
import { tryPlan } from '../plan.js';
import { checkOperatorRules } from '../config/monitoring.js';
import type { SetExitCode } from './commands.js';
import { configOption } from './options.js';

export function register(program: Command, setExitCode: SetExitCode): void {
  program
    .command('check')
    .description('validate the configuration and its schedule; print every problem with file:line:col')
    .addOption(configOption())
    .action((opts: { config: string }) => {
      const attempt = tryPlan(opts.config);
      const diagnostics = [...attempt.diagnostics];
      let plan = attempt.plan;
      // The operator's Prometheus rules, checked with promtool when it is installed (F2114).
      if (plan) {
        const rules = checkOperatorRules(plan.model).diagnostics;
        diagnostics.push(...rules);
        if (rules.length > 0) plan = undefined;
      }
      for (const d of diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      if (!plan) {
        const n = diagnostics.filter((d) => d.severity === 'error').length;
        process.stderr.write(`${n} error${n === 1 ? '' : 's'}\n`);
        setExitCode(2);
        return;
      }
      process.stdout.write(`ok: ${plan.model.services.length} services, ${plan.model.hosts.length} hosts\n`);
    });
}
