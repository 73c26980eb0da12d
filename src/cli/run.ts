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
  '--connection', '--private-key', '--key-file', '--ssh-common-args', '--ssh-extra-args', '--scp-extra-args', '--sftp-extra-args',
]);
const FORBIDDEN = new Set(['-i', '--inventory', '--inventory-file']);

export interface RunArgs {
  config: string;
  playbook: string;
  passthrough: string[];
}

/**
 * Splits `float run` arguments: -c/--config is float's, as in every other
 * command (ansible-playbook's `-c` is reachable as --connection, or after `--`);
 * the first bare word is the playbook; everything else goes to ansible-playbook
 * unchanged, and everything after `--` too, verbatim.
 */
export function parseRunArgs(argv: string[]): RunArgs {
  let config = 'config.yml';
  let playbook: string | undefined;
  const passthrough: string[] = [];
  const forbid = (a: string) => {
    if (FORBIDDEN.has(a) || a.startsWith('--inventory=') || a.startsWith('--inventory-file=') || /^-i./.test(a)) {
      throw new FloatUserError(`${a} is not allowed: float run always uses the inventory it compiles from config.yml`);
    }
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      for (const rest of argv.slice(i + 1)) forbid(rest);
      passthrough.push(...argv.slice(i + 1));
      break;
    } else if (a === '--config' || a === '-c') {
      if (argv[i + 1] === undefined) throw new FloatUserError(`${a} needs a path`);
      config = argv[++i];
    } else if (a.startsWith('--config=')) {
      config = a.slice('--config='.length);
    } else if (VALUE_OPTIONS.has(a)) {
      if (argv[i + 1] === undefined) throw new FloatUserError(`${a} needs a value`);
      passthrough.push(a, argv[++i]);
    } else if (a.startsWith('-')) {
      forbid(a);
      passthrough.push(a);
    } else if (playbook !== undefined) {
      passthrough.push(a);
    } else {
      playbook = a;
    }
  }
  if (!playbook) throw new FloatUserError('usage: float run [-c|--config PATH] PLAYBOOK [ansible-playbook options...] [-- ansible-playbook options...]');
  return { config, playbook, passthrough };
}

export function register(program: Command, setExitCode: SetExitCode): void {
  program
    .command('run')
    .description(
      'compile, refresh credentials and run ansible-playbook: float run [-c|--config PATH] PLAYBOOK [-e VARS] [--check] [--diff] [-v] [--limit H] [--tags T] [--skip-tags T] [-- ANSIBLE-PLAYBOOK OPTIONS]; -c is --config as in every float command (ansible-playbook\'s -c is --connection); the options after the playbook, and everything after --, go to ansible-playbook; built-in playbooks: all, init-credentials, apt-upgrade',
    )
    .helpOption('-h, --help', 'show help')
    .allowUnknownOption()
    .allowExcessArguments()
    // Keeps a `--` after the playbook in the arguments (parseRunArgs reads it).
    .passThroughOptions()
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
