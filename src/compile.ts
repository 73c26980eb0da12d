// float compile: plan (load, check, schedule), derive the inventory, emit it.
import { dirname, join, resolve } from 'node:path';
import { FloatUserError } from './config/diagnostics.js';
import { dashboardInventoryFiles } from './dashboard/index.js';
import { deriveInventory } from './inventory/derive.js';
import { emitInventory } from './inventory/emit.js';
import type { Inventory } from './inventory/types.js';
import { plan, type Plan } from './plan.js';

export interface CompileOptions {
  out?: string;
  extraFiles?: Map<string, string>;
}

export interface Compiled {
  plan: Plan;
  inventory: Inventory;
  outDir: string;
  files: number;
}

export function defaultInventoryDir(configPath: string): string {
  return join(dirname(resolve(configPath)), '.float', 'inventory');
}

export function compile(configPath: string, opts: CompileOptions = {}): Compiled {
  const p = plan(configPath);
  const inventory = deriveInventory(p.model, p.schedule);
  const outDir = resolve(opts.out ?? defaultInventoryDir(configPath));
  let files: number;
  try {
    // The admin dashboard is rendered beside the inventory (float-infra-dashboard serves it).
    const extraFiles = new Map([...dashboardInventoryFiles(p), ...(opts.extraFiles ?? [])]);
    ({ files } = emitInventory(inventory, outDir, { extraFiles }));
  } catch (err) {
    // The file system refusing (not a directory, read-only, full) is the user's to fix, not a bug.
    const code = (err as NodeJS.ErrnoException).code;
    if (code && /^E[A-Z]+$/.test(code)) throw new FloatUserError(`cannot write the inventory to ${outDir}: ${(err as Error).message}`, 'F2042');
    throw err;
  }
  return { plan: p, inventory, outDir, files };
}
