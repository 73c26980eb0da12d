// The CLI entry point: wires the commands and is the one place that catches errors.
// User mistakes (FloatUserError) print their diagnostics and exit 2 (or their own exitCode); anything else
// is a bug in float: it prints the stack and exits 1.
//
// Only the module of the command being run is imported (commands.ts): `float
// --help` loads no command, `float check` does not load the credentials code.
import { Command, CommanderError } from 'commander';
import { FloatUserError, formatDiagnostic } from '../config/diagnostics.js';
import { COMMANDS, type CommandSpec } from './commands.js';

const examplesText = (lines: string[]): string => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

async function registerCommand(program: Command, spec: CommandSpec, setExitCode: (code: number) => void): Promise<void> {
  const { register } = await spec.load();
  register(program, setExitCode);
  const cmd = program.commands.find((c) => c.name() === spec.name);
  if (!cmd) throw new Error(`command module ${spec.name} registered no command named ${spec.name}`);
  cmd.addHelpText('after', examplesText(spec.examples) + (spec.note ? `${spec.note}\n` : ''));
  for (const sub of cmd.commands) {
    const examples = spec.subcommandExamples?.[sub.name()];
    if (examples) sub.addHelpText('after', examplesText(examples));
  }
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('float')
    .description('Compile a float configuration into an Ansible inventory, PKI and secrets, and apply it.')
    .exitOverride()
    // Options after a command name are the command's (run passes them to ansible-playbook).
    .enablePositionalOptions()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addHelpText('after', examplesText(['float check', 'float run site.yml', 'float help schedule']));
  let exitCode = 0;
  const setExitCode = (code: number) => {
    exitCode = code;
  };
  // `float NAME ...` and `float help NAME` need NAME's module; every other command
  // is listed by its summary only.
  const wanted = argv[0] === 'help' ? argv[1] : argv[0];
  try {
    for (const spec of COMMANDS) {
      if (spec.name === wanted) await registerCommand(program, spec, setExitCode);
      else program.command(spec.name).description(spec.summary);
    }
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
