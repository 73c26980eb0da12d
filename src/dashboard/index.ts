// The dashboard as a file of the compiled inventory: the rendered site as one tar
// archive, `.dashboard.tar` (a dot name, so ansible-playbook does not try to read it
// as an inventory source), which the float-infra-dashboard role ships to the
// frontends and unpacks. `float dashboard` writes the same site as a directory.
import type { Plan } from '../plan.js';
import { renderDashboard } from './site.js';
import { tarArchive } from './tar.js';

export { renderDashboard };

/** Where the archive sits in the inventory directory. */
export const DASHBOARD_ARCHIVE = '.dashboard.tar';

export function dashboardInventoryFiles(p: Plan): Map<string, string> {
  return new Map([[DASHBOARD_ARCHIVE, tarArchive(renderDashboard(p.model, p.schedule))]]);
}
