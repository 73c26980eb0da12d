// The git state of the configuration repository: which commit is being applied,
// and whether the working tree has uncommitted changes.
import { execFileSync } from 'node:child_process';

export interface GitState {
  commit: string;
  dirty: boolean;
}

/** undefined when the directory is not inside a git work tree (or git is missing). */
export function gitState(dir: string): GitState | undefined {
  const git = (args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    if (git(['rev-parse', '--is-inside-work-tree']) !== 'true') return undefined;
    const commit = git(['rev-parse', 'HEAD']);
    const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
    return { commit, dirty };
  } catch {
    return undefined;
  }
}
