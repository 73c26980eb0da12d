// `float check`'s look at annotations.dependencies: a dependency naming a service
// that is not configured is drawn as an external node on the dashboard's graph,
// and is most likely a typo, so it is reported (a warning: annotations are
// documentation, nothing is deployed from them).
import type { Diagnostic } from '../config/diagnostics.js';
import type { Model } from '../config/load.js';
import { svcPos } from '../config/positions.js';

export function dependencyChecks(model: Model): Diagnostic[] {
  const names = new Set(model.services.map((s) => s.name));
  const out: Diagnostic[] = [];
  for (const s of model.services) {
    (s.annotations.dependencies ?? []).forEach((d, i) => {
      for (const end of ['client', 'server'] as const) {
        const ref = d[end];
        const slash = ref.indexOf('/');
        const svc = slash < 0 ? s.name : ref.slice(0, slash);
        const entity = slash < 0 ? ref : ref.slice(slash + 1);
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
