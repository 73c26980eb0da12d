// float run PLAYBOOK [ansible-playbook options...]: compile, refresh credentials,
// then run ansible-playbook with the compiled inventory and float's roles.
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { buildPlaybookCommand, resolvePlaybook } from '../ansible/command.js';
import { runPlaybook } from '../ansible/run.js';
import { connectionVars } from '../ansible/ssh.js';
import { chooseInterpreter, chooseStrategy, readAnsibleCfg } from '../ansible/strategy.js';
import { FloatUserError, formatDiagnostic, type Diagnostic } from '../config/diagnostics.js';
import { FLOAT_ROOT } from '../config/load.js';
import type { ConfigFile } from '../config/schema/config.js';
import { withConfigLock } from '../lock.js';
import { gitState, type GitStateResult } from '../core/git.js';
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
  /** --no-wait: fail at once when another float process holds the configuration. */
  noWait?: boolean;
}

/**
 * Splits `float run` arguments: -c/--config and --no-wait are float's, as in every
 * other command (ansible-playbook's `-c` is reachable as --connection, or after `--`);
 * the first bare word is the playbook; everything else goes to ansible-playbook
 * unchanged, and everything after `--` too, verbatim.
 */
export function parseRunArgs(argv: string[]): RunArgs {
  let config = 'config.yml';
  let playbook: string | undefined;
  let noWait = false;
  const passthrough: string[] = [];
  const forbid = (a: string) => {
    if (FORBIDDEN.has(a) || a.startsWith('--inventory=') || a.startsWith('--inventory-file=') || /^-i./.test(a)) {
      throw new FloatUserError(`${a} is not allowed: float run always uses the inventory it compiles from config.yml`, 'F2040');
    }
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      for (const rest of argv.slice(i + 1)) forbid(rest);
      passthrough.push(...argv.slice(i + 1));
      break;
    } else if (a === '--config' || a === '-c') {
      if (argv[i + 1] === undefined) throw new FloatUserError(`${a} needs a path`, 'F2040');
      config = argv[++i];
    } else if (a.startsWith('--config=')) {
      config = a.slice('--config='.length);
    } else if (a === '--no-wait') {
      noWait = true;
    } else if (VALUE_OPTIONS.has(a)) {
      if (argv[i + 1] === undefined) throw new FloatUserError(`${a} needs a value`, 'F2040');
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
  if (!playbook) throw new FloatUserError('usage: float run [-c|--config PATH] [--no-wait] PLAYBOOK [ansible-playbook options...] [-- ansible-playbook options...]', 'F2040');
  return { config, playbook, passthrough, ...(noWait ? { noWait } : {}) };
}

export function register(program: Command, setExitCode: SetExitCode): void {
  program
    .command('run')
    .description(
      "compile, refresh credentials and run ansible-playbook, holding the configuration's lock: float run [-c|--config PATH] [--no-wait] PLAYBOOK [-e VARS] [--check] [--diff] [-v] [--limit H] [--tags T] [--skip-tags T] [-- ANSIBLE-PLAYBOOK OPTIONS]; --no-wait exits 75 at once when another float process holds the lock; -c is --config as in every float command (ansible-playbook's -c is --connection); the options after the playbook, and everything after --, go to ansible-playbook; built-in playbooks: all, init-credentials, apt-upgrade",
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
      const command = `float run ${parsed.playbook}`;
      // One lock for the whole of it: credentials, inventory and ansible-playbook.
      setExitCode(await withConfigLock(parsed.config, { command, noWait: parsed.noWait }, () => runLocked(parsed, playbook)));
    });
}

async function runLocked(parsed: RunArgs, playbook: string): Promise<number> {
  const prepared = await prepare(parsed.config);
  for (const d of prepared.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  process.stderr.write(formatCredentialsReport(prepared.plan.model.config.credentials_dir, prepared.credentials).join('\n') + '\n');
  const configDir = dirname(resolve(parsed.config));
  const mode = prepared.plan.model.config.rollback_protection;
  const rollback = rollbackProtection(mode, mode === 'off' ? undefined : gitState(configDir), configDir);
  for (const d of rollback.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
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
      ...rollback.vars,
    },
  });
  const model = prepared.plan.model;
  const cfg = readAnsibleCfg(configDir, process.env);
  const strategy = chooseStrategy(cfg, process.env, model.hosts.map((h) => connectionVars(model, h)));
  process.stderr.write(`float run: ${strategy.message}\n`);
  return runPlaybook({ ...cmd, env: { ...cmd.env, ...strategy.env, ...chooseInterpreter(cfg, process.env) } });
}

type RollbackMode = ConfigFile['rollback_protection'];

/**
 * What rollback protection gets from git: the commit to record and compare on
 * every host, or why there is none. Never silent: git failing or refusing the
 * repository (e.g. "detected dubious ownership" when root runs float in another
 * user's checkout) is a warning, and an error when the configuration says
 * `rollback_protection: required`.
 */
export function rollbackProtection(
  mode: RollbackMode,
  git: GitStateResult | undefined,
  configDir: string,
): { vars: Record<string, unknown>; diagnostics: Diagnostic[] } {
  if (mode === 'off' || git === undefined) return { vars: {}, diagnostics: [] };
  if (git.ok) {
    const { commit, dirty } = git.state;
    return {
      vars: { float_config_commit: commit, float_config_dirty: dirty, float_rollback_protection: mode },
      diagnostics: dirty ? [{ code: 'F3015', severity: 'warning', message: `applying ${commit.slice(0, 12)} with uncommitted changes` }] : [],
    };
  }
  if (mode === 'required') {
    throw new FloatUserError(
      `rollback protection is required (rollback_protection: required in config.yml) but git cannot tell which commit ${configDir} is at: ${git.reason}`,
      'F3014',
    );
  }
  // Not a repository at all: nothing to protect, nothing to say.
  if (git.notARepository) return { vars: {}, diagnostics: [] };
  return {
    vars: {},
    diagnostics: [
      {
        code: 'F3014',
        severity: 'warning',
        message: `rollback protection is off for this run: git cannot read ${configDir}: ${git.reason} (set rollback_protection: required in config.yml to refuse instead)`,
      },
    ],
  };
}
