// Runs the configured scheduler on a loaded model and positions its errors.
import type { Diagnostic } from '../config/diagnostics.js';
import type { Model } from '../config/load.js';
import { locate } from '../config/source.js';
import { mastersOffInstances, scheduleCompat } from './compat.js';
import { scheduleStable } from './stable.js';
import type { ScheduleInput, ScheduleResult } from './types.js';

export type SchedulerMode = 'stable' | 'float-compat';

export function scheduleInput(model: Model): ScheduleInput {
  return {
    seed: model.config.scheduler_seed ?? model.globals.domain,
    hosts: model.hosts.map((h) => ({
      name: h.name,
      groups: [...h.groups, ...Object.keys(h.overlays).map((n) => `overlay_${n}`)],
      turndown: h.turndown,
    })),
    services: model.services.map((s) => ({
      name: s.name,
      scheduling_group: s.scheduling_group,
      scheduling_groups: s.scheduling_groups,
      num_instances: s.num_instances,
      master_election: s.master_election,
      master_scheduling_group: s.master_scheduling_group,
      schedule_with: s.schedule_with,
      scheduling_order: s.scheduling_order,
    })),
  };
}

/**
 * Schedules the model, positioning the scheduler's errors at the attribute (and
 * list item) they are about. Scheduling groups and schedule_with are checked in
 * one place (checkScheduleInput, which both schedulers start from), so nothing
 * here is reported twice.
 */
export function scheduleModel(model: Model, mode: SchedulerMode = model.config.scheduler): { result: ScheduleResult; diagnostics: Diagnostic[] } {
  const input = scheduleInput(model);
  const result = mode === 'float-compat' ? scheduleCompat(input) : scheduleStable(input);
  const diagnostics: Diagnostic[] = [];
  for (const e of result.errors) {
    const pos = locate(model.sources.services, [e.service, e.attribute, ...(e.index === undefined ? [] : [e.index])]);
    diagnostics.push({ code: e.code, severity: 'error', message: e.message, pos, subject: e.service });
  }
  if (mode === 'float-compat') {
    for (const { service, host } of mastersOffInstances(result)) {
      diagnostics.push({
        code: 'F2012',
        severity: 'warning',
        message: `float-compat elects host '${host}' as master of service '${service}', but '${service}' does not run there (upstream float behaves the same); the default scheduler (scheduler: stable) always elects a master among the instances`,
        pos: locate(model.sources.services, [service, 'master_election']),
      });
    }
  }
  return { result, diagnostics };
}
