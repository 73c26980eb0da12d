// The dashboard as files of the compiled inventory: the rendered site under
// `.dashboard/` (a dot name, so ansible-playbook does not try to read it as an
// inventory source), where the float-infra-dashboard role copies it from.
import type { Plan } from '../plan.js';
import { DASHBOARD_SUBDIR, renderDashboard } from './site.js';

export { DASHBOARD_SUBDIR, renderDashboard };

/** The site's files as inventory-relative paths. */
export function dashboardInventoryFiles(p: Plan): Map<string, string> {
  const out = new Map<string, string>();
  for (const [rel, text] of renderDashboard(p.model, p.schedule)) out.set(`${DASHBOARD_SUBDIR}/${rel}`, text);
  return out;
}
