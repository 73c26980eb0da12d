// `float check`'s look at annotations.dependencies: a dependency naming a service
// that is not configured is drawn as an external node on the dashboard's graph,
// and is most likely a typo, so it is reported (a warning: annotations are
// documentation, nothing is deployed from them).
import type { Diagnostic } from '../config/diagnostics.js';
import type { Model } from '../config/load.js';
import { svcPos } from '../config/positions.js';

/** One end of a dependency: `svc/entity` names a service's entity, a bare entity is the declaring service's. */
export function dependencyEnd(ref: string, declaring: string): { service: string; entity: string } {
  const i = ref.indexOf('/');
  return i < 0 ? { service: declaring, entity: ref } : { service: ref.slice(0, i), entity: ref.slice(i + 1) };
}

export function dependencyChecks(model: Model): Diagnostic[] {
  const names = new Set(model.services.map((s) => s.name));
  const out: Diagnostic[] = [];
  for (const s of model.services) {
    (s.annotations.dependencies ?? []).forEach((d, i) => {
      for (const end of ['client', 'server'] as const) {
        const ref = d[end];
        const { service: svc, entity } = dependencyEnd(ref, s.name);
        let problem: string | undefined;
        if (!names.has(svc)) problem = `names the service ${JSON.stringify(svc)}, which is not configured (or not enabled)`;
        else if (entity === '') problem = `names no container or systemd unit after the service`;
        if (problem) {
          out.push({
            code: 'F2153',
            severity: 'warning',
            message: `service '${s.name}': the ${end} of annotations.dependencies[${i}] (${JSON.stringify(ref)}) ${problem}`,
            pos: svcPos(model, s.name, ['annotations', 'dependencies', i, end]),
            subject: `${s.name}.annotations.dependencies[${i}].${end}`,
          });
        }
      }
    });
  }
  return out;
}
