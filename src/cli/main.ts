// The CLI entry point: wires the commands and is the one place that catches errors.
// User mistakes (FloatUserError) print their diagnostics and exit 2 (or their own exitCode); anything else
// is a bug in float: it prints the stack and exits 1.
import { Command, CommanderError } from 'commander';
import { FloatUserError, formatDiagnostic } from '../config/diagnostics.js';
import { COMMANDS } from './commands.js';

export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('float')
    .description('Compile a float configuration into an Ansible inventory, PKI and secrets, and apply it.')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  let exitCode = 0;
  for (const register of COMMANDS) {
    register(program, (code) => {
      exitCode = code;
    });
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof FloatUserError) {
      for (const d of err.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      // A few user errors have their own status (the configuration locked with --no-wait: 75).
      return (err as { exitCode?: number }).exitCode ?? 2;
    }
    process.stderr.write(`float: internal error (this is a bug in float):\n${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}
