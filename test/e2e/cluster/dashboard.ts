// The admin dashboard on the shared cluster: after the first run, the frontend holds
// exactly the site float renders for this configuration, readable by nginx's group
// and by no one else; the backends (not frontends) hold none.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { renderDashboard } from '../../../src/dashboard/site.js';
import { plan } from '../../../src/plan.js';
import type { ClusterCtx, ClusterSuite } from './suite.js';

const DIR = '/var/www/float-dashboard';

export const dashboardSuite: ClusterSuite = {
  name: 'dashboard',
  services: () => `dashboard-e2e:
  scheduling_group: backend
  num_instances: 1
  annotations:
    summary: "A service only described, for the dashboard's <graph> & escaping"
    dependencies:
      - client: reader
        server: frontend/nginx
`,
  checks(ctx: ClusterCtx) {
    it('the frontend holds the very site float renders for this configuration', () => {
      const p = plan(join(ctx.dir, 'config.yml'));
      const site = renderDashboard(p.model, p.schedule);
      const local = [...site.entries()].map(([rel, text]) => `${createHash('sha256').update(text).digest('hex')}  ${rel}`).sort();
      const r = ctx.on('fe1', `cd ${DIR} && find . -type f -printf '%P\\n' | sort | xargs sha256sum`);
      expect(r.status, r.out).toBe(0);
      const remote = r.out.trim().split('\n').map((l) => l.trim()).sort();
      expect(remote).toEqual(local);
      expect(site.get('services/dashboard-e2e.html')).toContain('&lt;graph&gt; &amp; escaping');
    });

    it('is readable by www-data only (root-owned, group www-data, 0750/0640)', () => {
      const st = ctx.on('fe1', `stat -c '%a %U %G' ${DIR} ${DIR}/index.html ${DIR}/services`);
      expect(st.out.trim().split('\n')).toEqual(['750 root www-data', '640 root www-data', '750 root www-data']);
      const www = ctx.on('fe1', `runuser -u www-data -- head -c 15 ${DIR}/index.html`);
      expect(www.status, www.out).toBe(0); // the positive control
      expect(www.out).toContain('<!DOCTYPE html>');
      const nobody = ctx.on('fe1', `runuser -u nobody -- head -c 15 ${DIR}/index.html`);
      expect(nobody.status).not.toBe(0);
    });

    it('is on the frontends only', () => {
      expect(ctx.on('fe1', `test -f ${DIR}/index.html`).status).toBe(0);
      for (const h of ['be1', 'be2', 'aux1']) expect(ctx.on(h, `test -e ${DIR}`).status, h).not.toBe(0);
    });
  },
};
