import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { tryPlan } from '../../src/plan.js';
import { diagnose, FRONTEND } from '../helpers/diagnose.js';
import { REPO_ROOT, baseTree, writeTree } from '../helpers/tree.js';

// Warnings about attributes no role acts on yet (F2030) have their own tests (config-semantic.test.ts).
const at = (files: Record<string, string>, opts?: { base?: boolean }) => diagnose(files, opts).filter((d) => !d.at.endsWith('F2030')).map((d) => d.at);

describe('reference examples', () => {
  const dir = join(REPO_ROOT, 'test/fixtures/reference');
  for (const name of readdirSync(dir)) {
    it(`${name} loads and passes the checks and the scheduler (float check)`, () => {
      const r = tryPlan(join(dir, name, 'config.yml'));
      // Some examples set attributes no role acts on yet: warnings (F2030) only; the
      // admin password of global-variables is in upstream's argon2 format, which nginx cannot check (F2141, a warning).
      expect(r.diagnostics.filter((d) => d.code !== 'F2030')).toEqual(
        name === 'global-variables' ? [expect.objectContaining({ code: 'F2141', severity: 'warning', subject: 'foo' })] : [],
      );
      expect(r.plan).toBeDefined();
    });
  }

  it('include-override: the including file overrides the included attribute', () => {
    const r = loadConfig(join(dir, 'include-override/config.yml'));
    const foo = r.model!.services.find((s) => s.name === 'foo')!;
    expect(foo.num_instances).toBe(2);
    expect(foo.scheduling_group).toBe('foo-hosts');
  });

  it('legacy ip normalises into ips and public_ips', () => {
    const r = loadConfig(join(dir, 'vagrant-inventory/config.yml'));
    const h = r.model!.hosts[0];
    expect(h.ips).toEqual(['192.168.10.10']);
    expect(h.public_ips).toEqual(['192.168.10.10']);
    expect(r.model!.groupVars.vagrant.ansible_user).toBe('vagrant');
  });
});

describe('config.yml', () => {
  it('requires plugin: float', () => {
    expect(at({ 'config.yml': 'plugin: other\n' })).toEqual(['config.yml:1:9 F1002']);
  });
  it('rejects unknown keys with a suggestion', () => {
    const d = diagnose({ 'config.yml': 'plugin: float\nservices_fle: s.yml\n' });
    expect(d.map((x) => x.at)).toEqual(['config.yml:2:1 F1001']);
    expect(d[0].message).toContain("did you mean 'services_file'");
  });
  it('resolves paths relative to config.yml', () => {
    const dir = writeTree(baseTree({ 'config.yml': 'plugin: float\nservices_file: conf/svc.yml\n', 'conf/svc.yml': 'a: {}\n' }));
    const r = loadConfig(join(dir, 'config.yml'));
    expect(r.model!.config.services_file).toBe(join(dir, 'conf/svc.yml'));
    expect(r.model!.config.credentials_dir).toBe(join(dir, 'credentials'));
  });
  it('a missing config file is one positioned-free error', () => {
    const d = diagnose({ 'other.yml': '' }, { base: false });
    expect(d).toHaveLength(1);
    expect(d[0].at).toBe('F1005');
  });
});

describe('services.yml', () => {
  it('merges includes: maps recursively, lists replaced', () => {
    const dir = writeTree(
      baseTree({
        'services.yml': 'include: base.yml\nweb:\n  annotations:\n    summary: b\n  ports: [9]\n',
        'base.yml': 'web:\n  scheduling_group: backend\n  annotations:\n    extra: x\n    summary: a\n  ports: [1, 2]\n',
      }),
    );
    const web = loadConfig(join(dir, 'config.yml')).model!.services[0];
    expect(web.scheduling_group).toBe('backend');
    expect(web.ports).toEqual([9]);
    expect(web.annotations).toEqual({ extra: 'x', summary: 'b' });
  });
  it('includes nest, relative to the including file', () => {
    const dir = writeTree(
      baseTree({
        'services.yml': 'include: [sub/a.yml]\n',
        'sub/a.yml': 'include: deeper/b.yml\na: {scheduling_group: backend}\n',
        'sub/deeper/b.yml': 'b: {scheduling_group: backend}\n',
      }),
    );
    expect(loadConfig(join(dir, 'config.yml')).model!.services.map((s) => s.name)).toEqual(['a', 'b']);
  });
  it('drops services with enabled: false', () => {
    const dir = writeTree(baseTree({ 'services.yml': 'a: {}\nb: {enabled: false}\n' }));
    expect(loadConfig(join(dir, 'config.yml')).model!.services.map((s) => s.name)).toEqual(['a']);
  });
  it('applies defaults from the reference', () => {
    const dir = writeTree(
      baseTree({
        'services.yml':
          'a:\n  service_credentials:\n    - name: a\n  public_endpoints:\n    - {name: a, port: 80}\n  horizontal_endpoints:\n    - {path: /x, port: 81}\n  monitoring_endpoints:\n    - {port: 82}\n' + FRONTEND,
      }),
    );
    const a = loadConfig(join(dir, 'config.yml')).model!.services[0];
    expect(a.num_instances).toBe('all');
    expect(a.master_election).toBe(false);
    expect(a.service_credentials[0]).toEqual({
      name: 'a',
      enable_client: true,
      client_cert_mode: 'client',
      enable_server: true,
      server_cert_mode: 'server',
      extra_san: [],
    });
    expect(a.public_endpoints[0].scheme).toBe('https');
    expect(a.horizontal_endpoints[0].scheme).toBe('http');
    expect(a.monitoring_endpoints[0].scheme).toBe('https');
    expect(a.monitoring_endpoints[0].metrics_path).toBe('/metrics');
  });
  it('an include cycle is an error, not a hang', () => {
    const d = diagnose({ 'services.yml': 'include: a.yml\n', 'a.yml': 'include: b.yml\n', 'b.yml': 'include: a.yml\n' });
    expect(d.map((x) => x.at)).toEqual(['b.yml:1:10 F1006']);
  });
  it('a missing include points at the include line', () => {
    expect(at({ 'services.yml': 'include:\n  - nothere.yml\n' })).toEqual(['services.yml:2:5 F1005']);
  });
  it('malformed YAML is one positioned error', () => {
    const d = diagnose({ 'services.yml': 'web:\n  ports: [1, 2\n' });
    expect(d).toHaveLength(1);
    expect(d[0].at).toBe('services.yml:3:1 F1000');
  });
  it('a key repeated in one mapping', () => {
    expect(at({ 'services.yml': 'web:\n  ports: [1]\n  ports: [2]\n' })).toEqual(['services.yml:3:3 F1004']);
  });
  it('unknown service attributes, with did-you-mean', () => {
    const d = diagnose({ 'services.yml': 'web:\n  scheduling_grup: backend\n' });
    expect(d.map((x) => x.at)).toEqual(['services.yml:2:3 F1001']);
    expect(d[0].message).toContain("did you mean 'scheduling_group'");
  });
  it('unknown attribute at depth', () => {
    expect(at({ 'services.yml': 'web:\n  containers:\n    - name: c\n      image: i\n      imgae: j\n' })).toEqual([
      'services.yml:5:7 F1001',
    ]);
  });
  it('a wrong type at depth, in the included file', () => {
    const d = diagnose({
      'services.yml': 'include: inc.yml\n',
      'inc.yml': 'web:\n  public_endpoints:\n    - name: web\n      port: "abc"\n',
    });
    expect(d.map((x) => x.at)).toEqual(['inc.yml:4:13 F1002']);
    expect(d[0].message).toContain('web.public_endpoints[0].port');
  });
  it('num_instances must be all or a positive integer', () => {
    const d = diagnose({ 'services.yml': 'web:\n  num_instances: some\n' });
    expect(d.map((x) => x.at)).toEqual(['services.yml:2:18 F1002']);
    expect(d[0].message).toContain("'all' or a positive integer");
  });
  it('missing required attribute', () => {
    expect(at({ 'services.yml': 'web:\n  containers:\n    - name: c\n' })).toEqual(['services.yml:3:7 F1003']);
  });
  it('invalid service and container names', () => {
    expect(at({ 'services.yml': 'my_svc: {}\nok:\n  containers:\n    - {name: a.b, image: i}\n' })).toEqual([
      'services.yml:1:1 F1007',
      'services.yml:4:14 F1007',
    ]);
  });
  it('reports every error in one run', () => {
    const d = diagnose({ 'services.yml': 'a:\n  bogus: 1\nb:\n  ports: [x]\nc:\n  scheduling_group: nope\n' });
    expect(d.map((x) => x.at)).toEqual(['services.yml:2:3 F1001', 'services.yml:4:11 F1002', 'services.yml:6:21 F2003']);
  });
});

describe('semantic checks', () => {
  it('port conflicts between services that can share a host', () => {
    const d = diagnose({ 'services.yml': 'a:\n  ports: [8080]\nb:\n  scheduling_group: backend\n  containers:\n    - {name: c, image: i, port: 8080}\n' });
    expect(d.map((x) => x.at)).toEqual(['services.yml:6:33 F2001']);
    expect(d[0].message).toContain("service 'a'");
  });
  it('no conflict when the services never share a host', () => {
    expect(at({ 'services.yml': 'a:\n  scheduling_group: frontend\n  ports: [8080]\nb:\n  scheduling_group: backend\n  ports: [8080]\n' })).toEqual([]);
  });
  it('monitoring and endpoint ports count too', () => {
    expect(
      at({
        'services.yml':
          'a:\n  monitoring_endpoints:\n    - {port: 9100}\nb:\n  scheduling_group: backend\n  public_endpoints:\n    - {name: b, port: 9100}\n' + FRONTEND,
      }),
    ).toEqual(['services.yml:7:23 F2001']);
  });
  it('duplicate public endpoint name and path', () => {
    expect(
      at({
        'services.yml':
          'a:\n  public_endpoints:\n    - {name: www, port: 80}\nb:\n  scheduling_group: frontend\n  public_endpoints:\n    - {name: www, port: 81}\n' + FRONTEND,
      }),
    ).toEqual(['services.yml:7:14 F2002']);
  });
  it('same public name on different paths is fine', () => {
    expect(
      at({
        'services.yml':
          'a:\n  public_endpoints:\n    - {name: www, port: 80}\nb:\n  scheduling_group: frontend\n  public_endpoints:\n    - {name: www, port: 81, path: /api}\n' + FRONTEND,
      }),
    ).toEqual([]);
  });
  it('scheduling groups no host has', () => {
    expect(
      at({
        'services.yml':
          'a:\n  scheduling_group: nope\nb:\n  scheduling_groups: [backend, nada]\nc:\n  master_election: true\n  master_scheduling_group: zip\n',
      }),
    ).toEqual(['services.yml:2:21 F2003', 'services.yml:4:32 F2003', 'services.yml:7:28 F2003']);
  });
  it('num_instances larger than the hosts available', () => {
    const d = diagnose({ 'services.yml': 'a:\n  scheduling_group: backend\n  num_instances: 3\n' });
    expect(d.map((x) => x.at)).toEqual(['services.yml:3:18 F2004']);
    expect(d[0].message).toContain("'a'");
    expect(d[0].message).toContain('backend');
    expect(d[0].message).toMatch(/\b3\b/);
    expect(d[0].message).toMatch(/\b2\b/);
  });
  it('schedule_with an unknown service, and cycles', () => {
    expect(
      at({ 'services.yml': 'a:\n  schedule_with: zz\nb:\n  schedule_with: c\nc:\n  schedule_with: b\n' }),
    ).toEqual(['services.yml:2:18 F2005', 'services.yml:4:18 F2006', 'services.yml:6:18 F2006']);
  });
  it('dataset with both path and backup_command', () => {
    expect(
      at({ 'services.yml': 'a:\n  datasets:\n    - name: d\n      path: /x\n      backup_command: dump\n' }).filter((d) => !d.endsWith('F2122')),
    ).toEqual(['services.yml:5:23 F2007']);
  });
  it('overlay addresses: unknown overlay, outside its CIDR, duplicate', () => {
    const d = at({
      'group_vars/all.yml':
        'domain: i.example.com\ndomain_public: [example.com]\nnet_overlays:\n  - {name: vpn, network: 192.168.0.0/24}\n',
      'hosts.yml':
        'hosts:\n  h1:\n    ips: [10.0.0.1]\n    ip_vpn: 192.168.0.1\n  h2:\n    ips: [10.0.0.2]\n    ip_vpn: 192.168.1.1\n  h3:\n    ips: [10.0.0.3]\n    ip_other: 192.168.0.3\n  h4:\n    ips: [10.0.0.4]\n    ip_vpn: 192.168.0.1\n',
      'services.yml': 'a: {}\n',
    });
    expect(d).toEqual(['hosts.yml:7:13 F2008', 'hosts.yml:10:5 F2008', 'hosts.yml:13:13 F2009']);
  });
  it('hosts.yml: unknown top-level keys', () => {
    expect(at({ 'hosts.yml': 'hosts:\n  h1: {ips: [10.0.0.1]}\nhost_vars: {}\n', 'services.yml': 'a: {}\n' })).toEqual(['hosts.yml:3:1 F1001']);
  });
  it('two hosts with the same address', () => {
    expect(
      at({ 'hosts.yml': 'hosts:\n  h1:\n    ips: [10.0.0.1]\n  h2:\n    ip: 10.0.0.1\n', 'services.yml': 'a: {}\n' }),
    ).toEqual(['hosts.yml:5:9 F2009']);
  });
  it('two public TCP endpoints on one public port', () => {
    expect(
      at({
        'services.yml':
          'a:\n  scheduling_group: frontend\n  public_tcp_endpoints:\n    - {name: a, port: 25}\nb:\n  scheduling_group: backend\n  public_tcp_endpoints:\n    - {name: b, port: 2525, public_port: 25}\n' + FRONTEND,
      }),
    ).toEqual(['services.yml:8:42 F2010']);
  });
  it('domain and domain_public are required', () => {
    const d = diagnose({ 'group_vars/all.yml': 'testing: true\n' });
    expect(d.map((x) => x.at)).toEqual(['group_vars/all.yml:1:1 F2011', 'group_vars/all.yml:1:1 F2011']);
  });
  it('group_vars/all directory and hosts.yml group_vars.all are merged', () => {
    const tree = baseTree({
        'group_vars/all/a.yml': 'domain: d.example.com\n',
        'group_vars/all/b.yml': 'domain_public: [example.org]\nmy_var: 1\n',
        'hosts.yml': 'hosts:\n  h1: {ips: [10.0.0.1]}\ngroup_vars:\n  all:\n    testing: false\n    domain: overridden\n',
        'services.yml': 'a: {}\n',
      });
    delete tree['group_vars/all.yml'];
    const dir = writeTree(tree);
    const m = loadConfig(join(dir, 'config.yml')).model!;
    expect(m.globals.domain).toBe('d.example.com');
    expect(m.globals.testing).toBe(false);
    expect(m.globals.my_var).toBe(1);
  });
});

describe('passwords.yml', () => {
  it('loads entries and includes with defaults', () => {
    const dir = writeTree(
      baseTree({
        'passwords.yml': `- include: ${REPO_ROOT}/passwords.yml.default\n- name: app_pw\n  description: x\n- include: more.yml\n`,
        'more.yml': '- {name: key, type: binary, length: 16}\n',
      }),
    );
    const m = loadConfig(join(dir, 'config.yml')).model!;
    expect(m.passwords).toEqual([
      { name: 'app_pw', description: 'x', type: 'password', length: 32 },
      { name: 'key', type: 'binary', length: 16 },
    ]);
  });
  it('rejects bad entries with positions', () => {
    expect(at({ 'passwords.yml': '- name: ok\n- name: bad-name\n- name: x\n  type: text\n' })).toEqual([
      'passwords.yml:2:9 F1002',
      'passwords.yml:4:9 F1002',
    ]);
  });
});
