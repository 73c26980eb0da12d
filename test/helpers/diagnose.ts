// Runs the load + semantic checks + scheduler (as `float check` does) on an inline fixture.
import { join } from 'node:path';
import { tryPlan } from '../../src/plan.js';
import { baseTree, writeTree } from './tree.js';

export interface Found {
  /** "FILE:LINE:COL CODE", FILE relative to the fixture directory. */
  at: string;
  message: string;
  severity: string;
}

export function diagnose(files: Record<string, string>, opts: { base?: boolean } = {}): Found[] {
  const dir = writeTree(opts.base === false ? files : baseTree(files));
  const { diagnostics } = tryPlan(join(dir, 'config.yml'));
  return diagnostics.map((d) => ({
    at: `${d.pos ? `${d.pos.file.replace(dir + '/', '')}:${d.pos.line}:${d.pos.col} ` : ''}${d.code}`,
    message: d.message,
    severity: d.severity,
  }));
}

/**
 * The built-in service that serves public endpoints, as services.default.yml
 * defines it, minus what the routing tests do not need: appended to an inline
 * services.yml (after the lines a test positions its errors on).
 */
export const FRONTEND = 'frontend:\n  scheduling_group: frontend\n  num_instances: all\n';
