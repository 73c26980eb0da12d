// Loading a configuration (issue 2, "Loading" and "Validation"): includes, group_vars,
// legacy host addresses, globals, passwords, the service schema and its defaults.
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type Model } from '../../src/config/load.js';
import { overlayPort } from '../../src/config/overlay.js';
import { VaultValue } from '../../src/config/yaml-values.js';
import { diagnose } from '../helpers/diagnose.js';
import { REPO_ROOT, baseTree, writeTree } from '../helpers/tree.js';

const at = (files: Record<string, string>, opts?: { base?: boolean }) => diagnose(files, opts).map((d) => d.at);

/** Loads an inline fixture that must be valid, and returns its model. */
function model(files: Record<string, string>, drop: string[] = []): Model {
  const tree = baseTree(files);
  for (const f of drop) delete tree[f];
  const r = loadConfig(join(writeTree(tree), 'config.yml'));
  expect(r.diagnostics).toEqual([]);
  return r.model!;
}

describe('includes', () => {
  it('a scalar of the including file replaces the included one; untouched attributes stay', () => {
    const m = model({
      'services.yml': 'include: base.yml\nweb:\n  num_instances: 1\n',
      'base.yml': 'web:\n  scheduling_group: backend\n  num_instances: 2\n  systemd_services: [web.service]\n',
    });
    expect(m.services[0]).toMatchObject({ name: 'web', scheduling_group: 'backend', num_instances: 1, systemd_services: ['web.service'] });
  });

  it('a list of maps is replaced as a whole, not merged item by item', () => {
    const m = model({
      'services.yml': 'include: base.yml\nweb:\n  containers:\n    - {name: b, image: new}\n',
      'base.yml': 'web:\n  containers:\n    - {name: a, image: old, port: 80}\n    - {name: c, image: other}\n',
    });
    expect(m.services[0].containers.map((c) => [c.name, c.image, c.port])).toEqual([['b', 'new', undefined]]);
  });

  it('later includes override earlier ones, and the including file overrides both', () => {
    const m = model({
      'services.yml': 'include: [one.yml, two.yml]\nweb:\n  ports: [3]\n',
      'one.yml': 'web:\n  ports: [1]\n  scheduling_group: frontend\n',
      'two.yml': 'web:\n  scheduling_group: backend\n',
    });
    expect(m.services[0]).toMatchObject({ ports: [3], scheduling_group: 'backend' });
  });

  it('enabled: false in the including file drops an included service', () => {
    const m = model({ 'services.yml': 'include: base.yml\nold:\n  enabled: false\n', 'base.yml': 'old: {}\nkept: {}\n' });
    expect(m.services.map((s) => s.name)).toEqual(['kept']);
  });

  it('a disabled service takes no part in the checks (its port cannot conflict)', () => {
    expect(at({ 'services.yml': 'a:\n  ports: [80]\nb:\n  enabled: false\n  ports: [80]\n' })).toEqual([]);
  });

  it('paths in nested includes are relative to the file naming them', () => {
    const m = model({
      'services.yml': 'include: conf/a.yml\n',
      'conf/a.yml': 'include: [../shared/b.yml]\na: {}\n',
      'shared/b.yml': 'include: ./deeper/c.yml\nb: {}\n',
      'shared/deeper/c.yml': 'c: {}\n',
    });
    expect(m.services.map((s) => s.name)).toEqual(['a', 'b', 'c']);
  });

  it('the same file included twice through different paths is not a cycle', () => {
    const m = model({
      'services.yml': 'include: [a.yml, b.yml]\n',
      'a.yml': 'include: common.yml\na: {}\n',
      'b.yml': 'include: common.yml\nb: {}\n',
      'common.yml': 'common: {}\n',
    });
    expect(m.services.map((s) => s.name)).toEqual(['a', 'b', 'common']);
  });

  it('a file including itself is a cycle, reported at the include entry', () => {
    const d = diagnose({ 'services.yml': 'include:\n  - ./services.yml\nweb: {}\n' });
    expect(d.map((x) => x.at)).toEqual(['services.yml:2:5 F1006']);
    expect(d[0].message).toMatch(/include cycle: .*services\.yml -> .*services\.yml/);
  });

  it('a bad include entry is positioned', () => {
    expect(at({ 'services.yml': 'include:\n  - 3\nweb: {}\n' })).toEqual(['services.yml:2:5 F1002']);
  });

  it('an included file that is not a mapping is positioned in that file', () => {
    expect(at({ 'services.yml': 'include: list.yml\n', 'list.yml': '- a\n- b\n' })).toEqual(['list.yml:1:1 F1002']);
  });

  it('errors in an overridden service point at the file where the bad value was written', () => {
    const d = at({
      'services.yml': 'include: base.yml\nweb:\n  scheduling_grup: backend\n',
      'base.yml': 'web:\n  ports: [http]\n',
    });
    expect(d).toEqual(['base.yml:2:11 F1002', 'services.yml:3:3 F1001']);
  });
});

describe('YAML details', () => {
  it('merge keys (<<: *anchor) are resolved, written keys winning', () => {
    const m = model({
      'services.yml':
        'a: &common\n  scheduling_group: backend\n  num_instances: 1\nb:\n  <<: *common\n  num_instances: 2\n',
    });
    expect(m.services.map((s) => [s.name, s.scheduling_group, s.num_instances])).toEqual([
      ['a', 'backend', 1],
      ['b', 'backend', 2],
    ]);
  });

  it('an unknown attribute brought in by a merge key points at the anchor', () => {
    expect(at({ 'services.yml': 'a: &c\n  schedulng_group: backend\nb:\n  <<: *c\n' })).toEqual([
      'services.yml:2:3 F1001',
      'services.yml:2:3 F1001',
    ]);
  });

  it('YAML 1.1 booleans, as Ansible reads them', () => {
    const m = model({ 'services.yml': 'web:\n  master_election: yes\n  skip_dns: on\n' });
    expect(m.services[0]).toMatchObject({ master_election: true, skip_dns: true });
  });

  it('Ansible vault-tagged values pass through group_vars', () => {
    const m = model({
      'group_vars/all.yml':
        'domain: internal.example.com\ndomain_public: [example.com]\nsecret: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n',
    });
    // A vault value, not its ciphertext as a string (Ansible would use that as the value).
    expect(m.globals.secret).toBeInstanceOf(VaultValue);
    expect((m.globals.secret as VaultValue).ciphertext).toBe('$ANSIBLE_VAULT;1.1;AES256\n6162\n');
  });
});

describe('group_vars', () => {
  it('group_vars/all.yml provides the globals', () => {
    const m = model({ 'group_vars/all.yml': 'domain: d.example\ndomain_public: [p.example]\nmy_var: [1, 2]\n' });
    expect(m.globals).toMatchObject({ domain: 'd.example', domain_public: ['p.example'], my_var: [1, 2] });
  });

  it('an extension-less group_vars/all file, as the reference names it', () => {
    const m = model({ 'group_vars/all': 'domain: d.example\ndomain_public: [p.example]\n' }, ['group_vars/all.yml']);
    expect(m.globals.domain).toBe('d.example');
  });

  it('group_vars/all/*.yml files are merged in name order; other groups are kept per group', () => {
    const m = model(
      {
        'group_vars/all/10-core.yml': 'domain: first\ndomain_public: [p.example]\n',
        'group_vars/all/20-override.yml': 'domain: second\n',
        'group_vars/all/notes.txt': 'not yaml: [\n',
        'group_vars/backend.yml': 'backend_var: 1\n',
        'group_vars/README.md': '# not variables\n',
      },
      ['group_vars/all.yml'],
    );
    expect(m.globals.domain).toBe('second');
    expect(m.groupVars).toEqual({ backend: { backend_var: 1 } });
  });

  it('a broken group_vars/all.yml gives its own error only (no "missing domain" noise)', () => {
    expect(at({ 'group_vars/all.yml': 'domain: [\n' })).toEqual(['group_vars/all.yml:2:1 F1000']);
  });

  it('a group_vars file that is not a mapping', () => {
    expect(at({ 'group_vars/all.yml': '- domain\n' })).toEqual(['group_vars/all.yml:1:1 F1002']);
  });

  it('group_vars as a file, or a dangling symlink in it, is an error and not a crash', () => {
    const tree = baseTree({
      'hosts.yml': 'hosts:\n  h1: {ips: [10.0.0.1]}\ngroup_vars:\n  all: {domain: d, domain_public: [p]}\n',
      'services.yml': 'a: {}\n',
    });
    delete tree['group_vars/all.yml'];
    const d = diagnose({ ...tree, group_vars: 'x\n' }, { base: false });
    expect(d.map((x) => x.at)).toEqual(['F1005']);
    expect(d[0].message).toContain('group_vars is not a directory');

    const dir = writeTree(baseTree({ 'services.yml': 'a: {}\n' }));
    symlinkSync(join(dir, 'nowhere.yml'), join(dir, 'group_vars/dangling.yml'));
    const r = loadConfig(join(dir, 'config.yml'));
    expect(r.diagnostics.map((x) => [x.code, x.message.includes('dangling.yml')])).toEqual([['F1005', true]]);
  });
});

describe('hosts.yml', () => {
  it('legacy ip and ip6 normalise into ips; public_ip and public_ip6 into public_ips', () => {
    const m = model({
      'hosts.yml': 'hosts:\n  h1:\n    ip: 10.0.0.1\n    ip6: "2001:db8::1"\n    public_ip: 192.0.2.1\n    public_ip6: "2001:db8:1::1"\n',
      'services.yml': 'a: {}\n',
    });
    expect(m.hosts[0]).toMatchObject({ ips: ['10.0.0.1', '2001:db8::1'], public_ips: ['192.0.2.1', '2001:db8:1::1'] });
    expect(m.hosts[0].vars).toMatchObject({ ips: ['10.0.0.1', '2001:db8::1'], public_ips: ['192.0.2.1', '2001:db8:1::1'] });
  });

  it('public_ips defaults to ips; special and Ansible variables pass through', () => {
    const m = model({
      'group_vars/all.yml':
        'domain: d.example\ndomain_public: [p.example]\nnet_overlays: [{name: vpn, network: 192.168.0.0/24}]\n',
      'hosts.yml':
        'hosts:\n  h1:\n    ips: [10.0.0.1]\n    ip_vpn: 192.168.0.1\n    groups: [backend]\n    resolver_mode: "internal:vpn"\n    turndown: true\n    shard_id: 3\n    ansible_host: 1.2.3.4\n',
      'services.yml': 'a: {}\n',
    });
    expect(m.hosts[0]).toMatchObject({
      ips: ['10.0.0.1'],
      public_ips: ['10.0.0.1'],
      overlays: { vpn: '192.168.0.1' },
      groups: ['backend'],
      resolver_mode: 'internal:vpn',
      turndown: true,
      shard_id: '3',
    });
    expect(m.hosts[0].vars.ansible_host).toBe('1.2.3.4');
    expect(m.hosts[0].vars.ip_vpn).toBe('192.168.0.1');
  });

  it('a host without addresses, and a bad resolver_mode, are positioned', () => {
    expect(
      at({ 'hosts.yml': 'hosts:\n  h1:\n    groups: [backend]\n  h2:\n    ips: [10.0.0.2]\n    resolver_mode: google\n', 'services.yml': 'a: {}\n' }),
    ).toEqual(['hosts.yml:3:5 F1003', 'hosts.yml:6:20 F1002']);
  });

  it('addresses that are not IPs point at the value, legacy keys included', () => {
    expect(
      at({
        'hosts.yml': 'hosts:\n  h1:\n    ip6: "fe80::zz"\n  h2:\n    ips: [10.0.0.2, 10.0.0.999]\n    public_ip: nope\n',
        'services.yml': 'a: {}\n',
      }),
    ).toEqual(['hosts.yml:3:10 F1002', 'hosts.yml:5:21 F1002', 'hosts.yml:6:16 F1002']);
  });

  it('two hosts with the same legacy ip6 address point at the second one', () => {
    expect(
      at({ 'hosts.yml': 'hosts:\n  h1:\n    ip6: "fe80::1"\n  h2:\n    ip6: "fe80::1"\n', 'services.yml': 'a: {}\n' }),
    ).toEqual(['hosts.yml:5:10 F2009']);
  });
});

describe('global variables', () => {
  it('testing defaults to true; the other documented defaults apply; unknown globals pass through', () => {
    const m = model({ 'group_vars/all.yml': 'domain: d.example\ndomain_public: [p.example]\nsomething_ansible: {a: 1}\n' });
    expect(m.globals).toMatchObject({
      testing: true,
      enable_ssh: true,
      net_overlays: [],
      admins: [],
      volumes_vg: 'vg0',
      something_ansible: { a: 1 },
    });
    expect(typeof m.globals.float_debian_dist).toBe('string');
  });

  it('testing: false is kept', () => {
    expect(model({ 'group_vars/all.yml': 'domain: d\ndomain_public: [p]\ntesting: false\n' }).globals.testing).toBe(false);
  });

  it('net_overlays port defaults to 51820 + the overlay index (WireGuard), unless written', () => {
    const m = model({ 'group_vars/all.yml': 'domain: d\ndomain_public: [p]\nnet_overlays:\n  - {name: vpn0, network: 10.9.0.0/24}\n  - {name: vpn1, network: 10.8.0.0/24}\n  - {name: vpn2, network: 10.7.0.0/24, port: 655}\n' });
    expect(m.globals.net_overlays.map((o, i) => overlayPort(o, i))).toEqual([51820, 51821, 655]);
  });

  it('reference globals are type-checked where written', () => {
    expect(
      at({
        'group_vars/all.yml':
          'domain: d\ndomain_public: [p]\nes_log_keep_days:\n  audit: long\nenable_elasticsearch: "{{ not testing }}"\nenable_keystore: maybe\nmail_relay:\n  server: smtp.example\n',
      }),
    ).toEqual([
      'group_vars/all.yml:4:10 F1002',
      'group_vars/all.yml:6:18 F1002',
      'group_vars/all.yml:7:1 F1003',
      'group_vars/all.yml:7:1 F1003',
      'group_vars/all.yml:7:1 F1003',
      'group_vars/all.yml:7:1 F1003',
    ]);
    const d = diagnose({ 'group_vars/all.yml': 'domain: d\ndomain_public: [p]\nenable_keystore: maybe\nmail_relay: {server: s, user: u, password: p, root_user: r}\n' });
    expect(d.map((x) => x.message)).toEqual([
      'enable_keystore: expected a boolean or a "{{ … }}" expression (got string "maybe")',
      "missing required attribute 'mail_relay.port'",
    ]);
  });

  it('domain_public must be a list', () => {
    expect(at({ 'group_vars/all.yml': 'domain: d\ndomain_public: example.com\n' })).toEqual(['group_vars/all.yml:2:16 F1002']);
  });

  it('missing domain with no group_vars at all points at config.yml and says where to set it', () => {
    const d = diagnose({ 'config.yml': 'plugin: float\n', 'hosts.yml': 'hosts: {}\n', 'services.yml': '' }, { base: false });
    expect(d.map((x) => x.at)).toEqual(['config.yml:1:1 F2011', 'config.yml:1:1 F2011']);
    expect(d[0].message).toContain("'domain'");
    expect(d[1].message).toContain("'domain_public'");
    expect(d[0].message).toContain('group_vars/all');
  });
});

describe('passwords.yml', () => {
  it('the reference example: a single include of passwords.yml.default', () => {
    const m = model({ 'passwords.yml': `---\n- include: "${REPO_ROOT}/passwords.yml.default"\n` });
    expect(Array.isArray(m.passwords)).toBe(true);
  });

  it('includes nest, relative to the including file', () => {
    const m = model({
      'passwords.yml': '- include: sub/p.yml\n- {name: top}\n',
      'sub/p.yml': '- include: q.yml\n- {name: mid, type: binary}\n',
      'sub/q.yml': '- {name: deep, length: 8, description: d}\n',
    });
    expect(m.passwords).toEqual([
      { name: 'deep', type: 'password', length: 8, description: 'd' },
      { name: 'mid', type: 'binary', length: 32 },
      { name: 'top', type: 'password', length: 32 },
    ]);
  });

  it('an include cycle, a missing include and a non-list file are positioned', () => {
    expect(at({ 'passwords.yml': '- include: p2.yml\n', 'p2.yml': '- include: ./passwords.yml\n' })).toEqual(['p2.yml:1:12 F1006']);
    expect(at({ 'passwords.yml': '- include: nope.yml\n' })).toEqual(['passwords.yml:1:12 F1005']);
    expect(at({ 'passwords.yml': 'name: x\n' })).toEqual(['passwords.yml:1:1 F1002']);
  });

  it('a secret listed twice: a warning when both say the same, an error when they differ; one file included twice is not a repeat', () => {
    const d = diagnose({
      'passwords.yml': '- {name: db_pw}\n- include: more.yml\n- {name: api_key, type: binary}\n',
      'more.yml': '- {name: db_pw}\n- name: api_key\n  length: 16\n',
    });
    expect(d.map((x) => `${x.at} ${x.severity}`)).toEqual(['more.yml:1:10 F2013 warning', 'passwords.yml:3:10 F2013 error']);
    expect(d[0].message).toMatch(/^secret 'db_pw' is listed twice \(first at \S*passwords\.yml:1:10\); remove one of them$/);
    expect(d[1].message).toMatch(/^secret 'api_key' is listed twice with different attributes \(first at .*more\.yml:2:9\); only one secret can have this name$/);
    const m = model({ 'passwords.yml': '- include: a.yml\n- include: b.yml\n', 'a.yml': '- include: common.yml\n', 'b.yml': '- include: common.yml\n', 'common.yml': '- {name: shared}\n' });
    expect(m.passwords.map((p) => p.name)).toEqual(['shared']);
  });

  it('unknown password attributes, with did-you-mean', () => {
    const d = diagnose({ 'passwords.yml': '- name: x\n  lenght: 3\n' });
    expect(d.map((x) => x.at)).toEqual(['passwords.yml:2:3 F1001']);
    expect(d[0].message).toContain("did you mean 'length'");
  });
});

describe('config.yml', () => {
  it('a missing hosts file points at the hosts_file value that names it', () => {
    const d = diagnose({ 'config.yml': 'plugin: float\nhosts_file: inventory/hosts.yml\n' });
    expect(d.map((x) => x.at)).toEqual(['config.yml:2:13 F1005']);
    expect(d[0].message).toContain('inventory/hosts.yml');
  });

  it('a passwords_file that config.yml names must exist; the default passwords.yml may be absent', () => {
    const d = diagnose({ 'config.yml': 'plugin: float\npasswords_file: secrets/pw.yml\n' });
    expect(d.map((x) => x.at)).toEqual(['config.yml:2:17 F1005']);
    expect(d[0].message).toContain('secrets/pw.yml');
    expect(model({ 'config.yml': 'plugin: float\n' }, ['passwords.yml']).passwords).toEqual([]);
  });

  it('hosts_file and passwords_file are relative to config.yml', () => {
    const m = model({
      'config.yml': 'plugin: float\nhosts_file: inv/hosts.yml\npasswords_file: inv/pw.yml\n',
      'inv/hosts.yml': 'hosts:\n  h1: {ips: [10.0.0.1], groups: [backend]}\n',
      'inv/pw.yml': '- include: more.yml\n',
      'inv/more.yml': '- {name: p}\n',
    });
    expect(m.hosts.map((h) => h.name)).toEqual(['h1']);
    expect(m.passwords.map((p) => p.name)).toEqual(['p']);
  });
});

describe('service schema', () => {
  it('every attribute of the reference is accepted, and defaults are the reference ones', () => {
    const m = model({
      'services.yml': [
        'full:',
        '  scheduling_groups: [backend]',
        '  num_instances: 1',
        '  master_election: true',
        '  master_scheduling_group: backend',
        '  scheduling_order: 2',
        '  service_credentials:',
        '    - {name: full, enable_client: false, client_cert_mode: both, enable_server: true, server_cert_mode: both, extra_san: [alt]}',
        '  monitoring_endpoints:',
        '    - {port: 9100, scheme: http, healthcheck_http_method: GET, metrics_path: /m, labels: {a: b}, scrape_interval: 30s}',
        '  prober_alert_timeout: 30m',
        '  public_endpoints:',
        '    - {name: full, domains: [full.example.org], port: 8080, scheme: http, autoconfig: false, extra_nginx_config: "x;", enable_sso_proxy: true}',
        '  horizontal_endpoints:',
        '    - {path: /.well-known/x, port: 8081, scheme: https}',
        '  public_tcp_endpoints:',
        '    - {name: smtp, port: 2525, public_port: 25, use_proxy_protocol: true}',
        '  public_other_endpoints:',
        '    - {name: other}',
        '  skip_acme: true',
        '  skip_dns: true',
        '  containers:',
        '    - name: app',
        '      image: app:1',
        '      ports: [8080, 8081]',
        '      env: {A: x, B: 1, C: true}',
        '      docker_options: "--cap-add=NET_RAW"',
        '      args: "--flag"',
        '      volumes: {/etc/app: /etc/app, tmpfs: /tmp}',
        '      root: true',
        '      egress_policy: none',
        '  systemd_services: [full-helper.service]',
        '  ports: [9000]',
        '  datasets:',
        '    - {name: db, path: /var/lib/full, owner: full, group: full, mode: "0700", on_master_only: true, sharded: true, schedule: "@random_every 7d"}',
        '    - {name: dump, backup_command: dump, restore_command: restore}',
        '  volumes:',
        '    - {name: data, path: /data, size: 1G, owner: full, group: full, mode: "0700"}',
        '  annotations:',
        '    summary: everything',
        '    dependencies: [{client: app, server: other/thing}]',
        '  enabled: true',
        'defaults:',
        '  containers: [{name: c, image: i}]',
        '  datasets: [{name: d, path: /d}]',
        '  volumes: [{name: v, path: /v}]',
        '  public_endpoints: [{name: defaults, port: 1}]',
        '  public_tcp_endpoints: [{name: t, port: 2}]',
        '',
      ].join('\n'),
    });
    const full = m.services.find((s) => s.name === 'full')!;
    expect(full.containers[0]).toMatchObject({ root: true, drop_capabilities: false, egress_policy: 'none' });
    expect(full.public_tcp_endpoints[0]).toEqual({ name: 'smtp', port: 2525, public_port: 25, use_proxy_protocol: true });

    const d = m.services.find((s) => s.name === 'defaults')!;
    expect(d).toMatchObject({
      num_instances: 'all',
      master_election: false,
      enabled: true,
      skip_acme: false,
      skip_dns: false,
      service_credentials: [],
      monitoring_endpoints: [],
      horizontal_endpoints: [],
      public_other_endpoints: [],
      systemd_services: [],
      ports: [],
      annotations: {},
    });
    expect(d.containers[0]).toEqual({ name: 'c', image: 'i', env: {}, root: false, drop_capabilities: true, egress_policy: 'allow-all' });
    expect(d.datasets[0]).toEqual({ name: 'd', path: '/d', schedule: '@random_every 1d', on_master_only: false, sharded: false });
    expect(d.volumes[0]).toEqual({ name: 'v', path: '/v', owner: 'root', group: 'root', mode: '0755' });
    expect(d.public_endpoints[0]).toMatchObject({ scheme: 'https', autoconfig: true, enable_sso_proxy: false });
    expect(d.public_tcp_endpoints[0]).toEqual({ name: 't', port: 2, use_proxy_protocol: false });
  });

  it('drop_capabilities written explicitly wins over the root-derived default', () => {
    const m = model({ 'services.yml': 'a:\n  containers:\n    - {name: c, image: i, drop_capabilities: false}\n' });
    expect(m.services[0].containers[0].drop_capabilities).toBe(false);
  });

  it('did-you-mean at depth: a container and a public endpoint attribute', () => {
    const d = diagnose({
      'services.yml': 'web:\n  containers:\n    - name: c\n      imgae: i\n  public_endpoints:\n    - {name: web, port: 80, shceme: http}\n',
    });
    expect(d.map((x) => x.at)).toEqual(['services.yml:3:7 F1003', 'services.yml:4:7 F1001', 'services.yml:6:29 F1001']);
    expect(d[1].message).toContain("did you mean 'image'");
    expect(d[2].message).toContain("did you mean 'scheme'");
  });

  it('wrong types at depth name the path and point at the value', () => {
    const d = diagnose({
      'services.yml':
        'web:\n  containers:\n    - name: c\n      image: i\n      volumes: 3\n      env:\n        A: [1]\n      egress_policy: open\n  service_credentials:\n    - {name: w, client_cert_mode: peer}\n',
    });
    expect(d.map((x) => x.at)).toEqual([
      'services.yml:5:16 F1002',
      'services.yml:7:12 F1002',
      'services.yml:8:22 F1002',
      'services.yml:10:35 F1002',
    ]);
    expect(d[0].message).toContain('web.containers[0].volumes');
    expect(d[0].message).toContain('map of source: target');
    expect(d[1].message).toContain('web.containers[0].env.A');
    expect(d[3].message).toContain('web.service_credentials[0].client_cert_mode');
  });

  it('ports must be integers in 1..65535', () => {
    expect(at({ 'services.yml': 'web:\n  ports: [0, 70000, 1.5]\n' })).toEqual([
      'services.yml:2:11 F1002',
      'services.yml:2:14 F1002',
      'services.yml:2:21 F1002',
    ]);
  });
});
