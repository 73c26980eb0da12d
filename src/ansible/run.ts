// Runs ansible-playbook with the compiled inventory: the only place that executes it.
import { execa } from 'execa';
import { FloatUserError } from '../config/diagnostics.js';
import type { PlaybookCommand } from './command.js';

/** Runs the command with output streaming live; resolves to ansible-playbook's exit code. */
export async function runPlaybook(cmd: PlaybookCommand): Promise<number> {
  const r = await execa(cmd.file, cmd.args, {
    cwd: cmd.cwd,
    env: { ...process.env, ...cmd.env },
    stdio: 'inherit',
    reject: false,
  });
  if (r.failed && r.exitCode === undefined) {
    const code = (r as unknown as { code?: string }).code;
    if (code === 'ENOENT') {
      throw new FloatUserError(`${cmd.file} not found: install Ansible (on Debian: apt-get install ansible) and make sure ${cmd.file} is on PATH`, 'F2041');
    }
    throw new FloatUserError(`could not run ${cmd.file}: ${r.message}`, 'F2041');
  }
  return r.exitCode ?? 1;
}
