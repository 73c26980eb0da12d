// Runs ansible-playbook with the compiled inventory: the only place that executes it.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { FloatUserError } from '../config/diagnostics.js';
import type { PlaybookCommand } from './command.js';

/**
 * Runs the command with output streaming live; resolves to ansible-playbook's exit
 * code (128 + the signal's number when a signal ended it, as a shell reports it).
 */
export function runPlaybook(cmd: PlaybookCommand): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.file, cmd.args, { cwd: cmd.cwd, env: { ...process.env, ...cmd.env }, stdio: 'inherit' });
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(new FloatUserError(`${cmd.file} not found: install Ansible (on Debian: apt-get install ansible) and make sure ${cmd.file} is on PATH`, 'F2041'));
      } else {
        reject(new FloatUserError(`could not run ${cmd.file}: ${err.message}`, 'F2041'));
      }
    });
    child.on('close', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}
