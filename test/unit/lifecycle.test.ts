// Host lifecycle: the checks of float_debian_dist, mail_relay and volumes
// (F2160-F2165), and what derive hands the lifecycle roles (manifests, volumes,
// the turndown group).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lvmBytes } from '../../src/config/lifecycle.js';
import { deriveInventory } from '../../src/inventory/derive.js';
import { plan } from '../../src/plan.js';
import { diagnose } from '../helpers/diagnose.js';
import { baseTree, writeTree } from '../helpers/tree.js';

const GLOBALS = 'domain: internal.example.com\ndomain_public: [example.com]\n';
const only = (files: Record<string, string>, prefix = 'F216') => diagnose(files).filter((d) => d.at.includes(` ${prefix}`));

describe('float_debian_dist (F2160)', () => {
  it('bookworm and trixie are accepted; another release is an error at its value', () => {
    expect(only({ 'group_vars/all.yml': `${GLOBALS}float_debian_dist: trixie\n` })).toEqual([]);
    expect(only({ 'group_vars/all.yml': `${GLOBALS}float_debian_dist: bookworm\n` })).toEqual([]);
    const d = only({ 'group_vars/all.yml': `${GLOBALS}float_debian_dist: buster\n` });
    expect(d.map((x) => `${x.at} ${x.severity}`)).toEqual(['group_vars/all.yml:3:20 F2160 error']);
    expect(d[0].message).toContain('bookworm, trixie');
  });
});

describe('mail_relay (F2161)', () => {
  const relay = (over: string) => `${GLOBALS}mail_relay:\n  server: smtp.example.com\n  port: 587\n  user: u\n  password: "{{ smtp_password }}"\n  root_user: ops@example.com\n${over}`;
  it('a complete relay passes, a Jinja password included; no F2030 warning any more', () => {
    expect(diagnose({ 'group_vars/all.yml': relay('') })).toEqual([]);
  });
  it('a server that is no host name, a root_user with a space, a non-boolean tls: errors at each', () => {
    const d = only({ 'group_vars/all.yml': relay('  tls: maybe\n').replace('smtp.example.com', 'smtp example').replace('ops@example.com', 'ops at example') });
    expect(d.map((x) => x.at)).toEqual(['group_vars/all.yml:4:11 F2161', 'group_vars/all.yml:8:14 F2161', 'group_vars/all.yml:9:8 F2161']);
  });
});

describe('volumes (F2162-F2165)', () => {
  const svc = (vols: string, group = 'backend') => `web:\n  scheduling_group: ${group}\n  num_instances: 1\n  volumes:\n${vols}`;
  it('LVM sizes', () => {
    expect(lvmBytes('10G')).toBe(10 * 2 ** 30);
    expect(lvmBytes('512m')).toBe(512 * 2 ** 20);
    expect(lvmBytes('100')).toBe(100 * 2 ** 20);
    expect(lvmBytes('1.5t')).toBe(1.5 * 2 ** 40);
    expect(lvmBytes('10GB')).toBeUndefined();
    expect(lvmBytes('-1G')).toBeUndefined();
  });

  it('a volume needs a size LVM reads', () => {
    const d = only({ 'services.yml': svc('    - {name: a, path: /srv/a}\n    - {name: b, path: /srv/b, size: 10GB}\n    - {name: c, path: /srv/c, size: 1G}\n') });
    expect(d.map((x) => x.at)).toEqual(['services.yml:5:7 F2162', 'services.yml:6:37 F2162']);
  });

  it('one LV name or mount path twice on a host is an error; on disjoint hosts it is not', () => {
    const two = `${svc('    - {name: data, path: /srv/a, size: 1G}\n')}db:\n  scheduling_group: backend\n  volumes:\n    - {name: data, path: /srv/b, size: 1G}\n`;
    expect(only({ 'services.yml': two }).map((x) => x.at)).toEqual(['services.yml:5:14 F2163']);
    const disjoint = `${svc('    - {name: data, path: /srv/a, size: 1G}\n')}db:\n  scheduling_group: frontend\n  volumes:\n    - {name: data, path: /srv/a, size: 1G}\n`;
    expect(only({ 'services.yml': disjoint })).toEqual([]);
  });

  it('warns when the volumes scheduled on a host exceed volumes_vg_size (global, or the host variable)', () => {
    const services = svc('    - {name: a, path: /srv/a, size: 6G}\n    - {name: b, path: /srv/b, size: 5G}\n');
    const d = only({ 'group_vars/all.yml': `${GLOBALS}volumes_vg_size: 10G\n`, 'services.yml': services });
    expect(d.map((x) => `${x.at} ${x.severity}`)).toEqual(['group_vars/all.yml:3:18 F2164 warning']);
    expect(d[0].message).toMatch(/^host 'host[23]': the volumes scheduled there need 11G, more than its volume group vg0 holds \(volumes_vg_size 10G\): web\/a 6G, web\/b 5G$/);
    expect(only({ 'group_vars/all.yml': `${GLOBALS}volumes_vg_size: 11G\n`, 'services.yml': services })).toEqual([]);
    // A host's own volumes_vg_size wins over the global.
    const hosts = baseTree()['hosts.yml'].replace('    ips: [10.0.0.2]\n', '    ips: [10.0.0.2]\n    volumes_vg_size: 1T\n').replace('    ips: [10.0.0.3]\n', '    ips: [10.0.0.3]\n    volumes_vg_size: 1T\n');
    expect(only({ 'group_vars/all.yml': `${GLOBALS}volumes_vg_size: 10G\n`, 'hosts.yml': hosts, 'services.yml': services })).toEqual([]);
    expect(only({ 'group_vars/all.yml': `${GLOBALS}volumes_vg_size: lots\n`, 'services.yml': services }).map((x) => x.at)).toEqual(['group_vars/all.yml:3:18 F2165']);
  });
});

describe('derive: lifecycle data', () => {
  it('manifests of the services on each host, their volumes, and the turndown group', () => {
    const files = baseTree({
      'services.yml':
        'web:\n  scheduling_group: backend\n  num_instances: 1\n  service_credentials:\n    - {name: web}\n  systemd_services: [web.service]\n  datasets:\n    - {name: db, path: /var/lib/web}\n  volumes:\n    - {name: webdata, path: /srv/web, size: 2G, owner: docker-web}\n',
    });
    files['hosts.yml'] = files['hosts.yml'].replace('    ips: [10.0.0.3]\n', '    ips: [10.0.0.3]\n    turndown: true\n');
    const p = plan(join(writeTree(files), 'config.yml'));
    const inv = deriveInventory(p.model, p.schedule);
    expect(p.schedule.assignments.web).toEqual(['host2']);
    const hv = inv.hostVars.host2;
    expect(JSON.parse(JSON.stringify(hv.float_host_service_manifests))).toEqual({
      web: { service: 'web', user: 'docker-web', credentials: ['web'], units: ['web.service'], data: ['/var/lib/web'], volumes: [{ name: 'webdata', path: '/srv/web' }] },
    });
    expect(JSON.parse(JSON.stringify(hv.float_host_volumes))).toEqual([{ service: 'web', name: 'webdata', path: '/srv/web', size: '2G', owner: 'docker-web', group: 'root', mode: '0755' }]);
    expect(hv.float_turndown).toBe(false);
    expect(inv.hostVars.host3.float_turndown).toBe(true);
    expect(inv.hostVars.host3.float_host_service_manifests).toEqual({});
    expect(inv.hostGroups.host3).toContain('float_turndown');
    expect(inv.hostGroups.host2).not.toContain('float_turndown');
  });
});
