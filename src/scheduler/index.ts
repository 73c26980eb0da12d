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
 * Schedules the model. Errors already reported by the semantic checks (same
 * service, attribute and code) are not repeated.
 */
export function scheduleModel(
  model: Model,
  mode: SchedulerMode = model.config.scheduler,
  already: Diagnostic[] = [],
): { result: ScheduleResult; diagnostics: Diagnostic[] } {
  const input = scheduleInput(model);
  const result = mode === 'float-compat' ? scheduleCompat(input) : scheduleStable(input);
  const diagnostics: Diagnostic[] = [];
  // The semantic checks name the service in their messages: `service 'NAME'`.
  const seen = new Set(already.map((d) => `${d.code} ${/service '([^']+)'/.exec(d.message)?.[1]}`));
  for (const e of result.errors) {
    const pos = locate(model.sources.services, [e.service, e.attribute]);
    const key = `${e.code} ${e.service}`;
    if (seen.has(key)) continue;
    seen.add(key);
    diagnostics.push({ code: e.code, severity: 'error', message: e.message, pos });
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
