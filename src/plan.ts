// The pure front half of every command: load, check, schedule. Returns data
// (model, schedule, diagnostics); the CLI decides what to print and how to exit.
import { FloatUserError, hasErrors, sortDiagnostics, type Diagnostic } from './config/diagnostics.js';
import { hostileStringChecks } from './config/hostile.js';
import { loadConfig, type Model } from './config/load.js';
import { semanticChecks } from './config/semantic.js';
import { dependencyChecks } from './dashboard/check.js';
import { volumeCommitChecks } from './config/lifecycle.js';
import { scheduleModel, type SchedulerMode } from './scheduler/index.js';
import type { ScheduleResult } from './scheduler/types.js';

export interface Plan {
  model: Model;
  schedule: ScheduleResult;
  /** Warnings (errors make planning fail). */
  diagnostics: Diagnostic[];
}

export interface PlanAttempt {
  plan?: Plan;
  diagnostics: Diagnostic[];
}

export function tryPlan(configPath: string, opts: { scheduler?: SchedulerMode } = {}): PlanAttempt {
  const loaded = loadConfig(configPath);
  const diagnostics = [...loaded.diagnostics];
  if (!loaded.model) return { diagnostics: sortDiagnostics(diagnostics) };
  const semantic = semanticChecks(loaded.model);
  diagnostics.push(...semantic, ...hostileStringChecks(loaded.model), ...dependencyChecks(loaded.model));
  const sched = scheduleModel(loaded.model, opts.scheduler ?? loaded.model.config.scheduler);
  diagnostics.push(...sched.diagnostics, ...volumeCommitChecks(loaded.model, sched.result.assignments));
  const sorted = sortDiagnostics(diagnostics);
  if (hasErrors(sorted)) return { diagnostics: sorted };
  return { plan: { model: loaded.model, schedule: sched.result, diagnostics: sorted }, diagnostics: sorted };
}

/** Like tryPlan, but a configuration with errors throws them as a user error. */
export function plan(configPath: string, opts: { scheduler?: SchedulerMode } = {}): Plan {
  const attempt = tryPlan(configPath, opts);
  if (!attempt.plan) throw new FloatUserError(attempt.diagnostics.filter((d) => d.severity === 'error'));
  return attempt.plan;
}
