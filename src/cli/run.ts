// float run PLAYBOOK [ansible-playbook options...]: compile, refresh credentials,
// then run ansible-playbook with the compiled inventory and float's roles.
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { buildPlaybookCommand, resolvePlaybook } from '../ansible/command.js';
import { gitState } from '../ansible/git.js';
import { runPlaybook } from '../ansible/run.js';
import { FloatUserError, formatDiagnostic } from '../config/diagnostics.js';
import { FLOAT_ROOT } from '../config/load.js';
import { formatCredentialsReport } from '../credentials/index.js';
import { prepare } from '../prepare.js';
import type { SetExitCode } from './commands.js';

/** ansible-playbook options that take a value as the next argument. */
const VALUE_OPTIONS = new Set([
  '-e', '--extra-vars', '-l', '--limit', '-t', '--tags', '--skip-tags', '-f', '--forks', '-u', '--user',
  '--start-at-task', '-M', '--module-path', '--vault-id', '-T', '--timeout', '--become-user', '--become-method',
  '-c', '--connection', '--private-key', '--key-file', '--ssh-common-args', '--ssh-extra-args', '--scp-extra-args', '--sftp-extra-args',
]);
const FORBIDDEN = new Set(['-i', '--inventory', '--inventory-file']);

export interface RunArgs {
  config: string;
  playbook: string;
  passthrough: string[];
}

/**
 * Splits `float run` arguments: --config/-C is float's, the first bare word is the
 * playbook, everything else goes to ansible-playbook unchanged.
 */
export function parseRunArgs(argv: string[]): RunArgs {
  let config = 'config.yml';
  let playbook: string | undefined;
  const passthrough: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--config') {
      if (argv[i + 1] === undefined) throw new FloatUserError('--config needs a path', 'F2040');
      config = argv[++i];
    } else if (a.startsWith('--config=')) {
      config = a.slice('--config='.length);
    } else if (FORBIDDEN.has(a) || a.startsWith('--inventory=')) {
      throw new FloatUserError(`${a} is not allowed: float run always uses the inventory it compiles from config.yml`, 'F2040');
    } else if (VALUE_OPTIONS.has(a)) {
      if (argv[i + 1] === undefined) throw new FloatUserError(`${a} needs a value`, 'F2040');
      passthrough.push(a, argv[++i]);
    } else if (a.startsWith('-') || playbook !== undefined) {
      passthrough.push(a);
    } else {
      playbook = a;
    }
  }
  if (!playbook) throw new FloatUserError('usage: float run [--config PATH] PLAYBOOK [ansible-playbook options...]', 'F2040');
  return { config, playbook, passthrough };
}

export function register(program: Command, setExitCode: SetExitCode): void {
  program
    .command('run')
    .description(
      'compile, refresh credentials and run ansible-playbook: float run [--config PATH] PLAYBOOK [-e VARS] [--check] [--diff] [-v] [--limit H] [--tags T] [--skip-tags T]',
    )
    .helpOption('-h, --help', 'show help')
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]', 'PLAYBOOK followed by ansible-playbook options')
    .action(async (args: string[]) => {
      const parsed = parseRunArgs(args);
      const playbook = resolvePlaybook(parsed.playbook, FLOAT_ROOT);
      const prepared = await prepare(parsed.config);
      for (const d of prepared.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      process.stderr.write(formatCredentialsReport(prepared.plan.model.config.credentials_dir, prepared.credentials).join('\n') + '\n');
      const configDir = dirname(resolve(parsed.config));
      const git = gitState(configDir);
      if (git?.dirty) process.stderr.write(`float: warning: applying ${git.commit.slice(0, 12)} with uncommitted changes\n`);
      const cmd = buildPlaybookCommand({
        floatRoot: FLOAT_ROOT,
        configDir,
        inventoryDir: prepared.inventoryDir,
        playbook,
        passthrough: parsed.passthrough,
        vaultPasswordFile: prepared.vaultPasswordFile,
        rolesPaths: prepared.rolesPaths,
        floatVars: {
          float_root: FLOAT_ROOT,
          float_node: process.execPath,
          float_config_file: resolve(parsed.config),
          float_config_dir: configDir,
          ...(git ? { float_config_commit: git.commit, float_config_dirty: git.dirty } : {}),
        },
      });
      setExitCode(await runPlaybook(cmd));
    });
}
