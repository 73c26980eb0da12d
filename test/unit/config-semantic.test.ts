// Semantic checks of issue 2 beyond the basic cases of config.test.ts: every kind of
// port, co-location through schedule_with, checks on included files, public names.
import { describe, expect, it } from 'vitest';
import { diagnose, FRONTEND } from '../helpers/diagnose.js';

// Warnings about attributes no role acts on yet (F2030) are tested on their own below.
const at = (files: Record<string, string>) => diagnose(files).filter((d) => !d.at.endsWith('F2030')).map((d) => d.at);

describe('credential names (F2014)', () => {
  it('two services that can share a host may not use one credential name; on disjoint hosts they may', () => {
    const d = diagnose({
      'services.yml':
        'a:\n  scheduling_group: backend\n  service_credentials:\n    - {name: shared}\nb:\n  scheduling_group: backend\n  num_instances: 1\n  service_credentials:\n    - {name: shared}\nc:\n  scheduling_group: frontend\n  service_credentials:\n    - {name: shared}\n',
    });
    expect(d.map((x) => x.at)).toEqual(['services.yml:9:14 F2014']);
    expect(d[0].message).toMatch(/^credential 'shared': service 'a' has it too and both can run on host 'host\d' \(\S*services\.yml:4:14\); credential names must differ$/);
  });

  it("the name 'host' is the default client credential; one service naming a credential twice", () => {
    expect(at({ 'services.yml': 'a:\n  service_credentials:\n    - {name: host}\n    - {name: x}\n    - {name: x, enable_server: false}\n' })).toEqual([
      'services.yml:3:14 F2014',
      'services.yml:5:14 F2014',
    ]);
  });
});

describe('a service named like a host (F2061)', () => {
  it('may not have a server certificate usable as a client: it would carry the host\'s identity', () => {
    const d = diagnose({
      'services.yml':
        'web:\n  scheduling_group: backend\nhost1:\n  scheduling_group: backend\n  service_credentials:\n    - {name: a}\n    - {name: b, server_cert_mode: both}\n    - {name: c, server_cert_mode: client, enable_server: false}\n',
    });
    expect(d.map((x) => x.at)).toEqual(['services.yml:7:35 F2061']);
    expect(d[0].message).toMatch(/^credential 'b' of service 'host1': .* named like host 'host1' \(\S*hosts\.yml:\d+:\d+\)/);
  });
});

describe('port conflicts (F2001)', () => {
  it('a container ports list against another service', () => {
    const d = diagnose({
      'services.yml': 'a:\n  containers:\n    - {name: c, image: i, ports: [8000, 8001]}\nb:\n  scheduling_group: backend\n  ports: [8001]\n',
    });
    expect(d.map((x) => x.at)).toEqual(['services.yml:6:11 F2001']);
    expect(d[0].message).toContain('services.yml:3:41');
  });

  it('horizontal and public TCP endpoint ports count too', () => {
    expect(
      at({
        'services.yml':
          'a:\n  horizontal_endpoints:\n    - {path: /.well-known/a, port: 7000}\n  public_tcp_endpoints:\n    - {name: a, port: 7001}\nb:\n  scheduling_group: backend\n  ports: [7000, 7001]\n' + FRONTEND,
      }),
    ).toEqual(['services.yml:8:11 F2001', 'services.yml:8:17 F2001']);
  });

  it('schedule_with puts services on the same hosts, so their ports conflict', () => {
    expect(
      at({
        'services.yml':
          'a:\n  scheduling_group: frontend\n  ports: [5000]\nb:\n  scheduling_group: backend\n  ports: [5000]\nc:\n  schedule_with: a\n  ports: [5000]\n',
      }),
    ).toEqual(['services.yml:9:11 F2001']);
  });

  it('one service naming its own port several times is fine', () => {
    expect(
      at({
        'services.yml':
          'a:\n  containers:\n    - {name: c, image: i, port: 9125}\n  public_endpoints:\n    - {name: a, port: 9125}\n  monitoring_endpoints:\n    - {port: 9125}\n  ports: [9125]\n' + FRONTEND,
      }),
    ).toEqual([]);
  });

  it('a conflict with a service from an included file is positioned in that file', () => {
    const d = diagnose({
      'services.yml': 'include: base.yml\nmine:\n  ports: [3000]\n',
      'base.yml': 'theirs:\n  scheduling_group: backend\n  ports: [3000]\n',
    });
    expect(d.map((x) => x.at)).toEqual(['base.yml:3:11 F2001']);
    expect(d[0].message).toMatch(/service 'mine' \(.*services\.yml:3:11\)/);
  });

  it('a semantic error inside an included file is positioned there', () => {
    expect(at({ 'services.yml': 'include: base.yml\n', 'base.yml': 'web:\n  scheduling_group: nowhere\n' })).toEqual([
      'base.yml:2:21 F2003',
    ]);
  });
});

describe('public endpoints', () => {
  it('duplicate names among domains point at the domains item', () => {
    expect(
      at({
        'services.yml':
          'a:\n  public_endpoints:\n    - {domains: [x.org, y.org], port: 80}\nb:\n  scheduling_group: frontend\n  public_endpoints:\n    - {domains: [z.org, y.org], port: 81}\n' + FRONTEND,
      }),
    ).toEqual(['services.yml:7:25 F2002']);
  });

  it('a short name and an explicit domain naming the same host collide', () => {
    const d = diagnose({
      'services.yml':
        'a:\n  public_endpoints:\n    - {name: www, port: 80}\nb:\n  scheduling_group: frontend\n  public_endpoints:\n    - {domains: [www.example.com], port: 81}\n' + FRONTEND,
    });
    expect(d.map((x) => x.at)).toEqual(['services.yml:7:18 F2002']);
    expect(d[0].message).toContain("'www.example.com'");
  });

  it('with several public domains, one duplicate name is one error', () => {
    expect(
      at({
        'group_vars/all.yml': 'domain: i.example.com\ndomain_public: [example.com, example.org]\n',
        'services.yml':
          'a:\n  public_endpoints:\n    - {name: www, port: 80}\nb:\n  scheduling_group: frontend\n  public_endpoints:\n    - {name: www, port: 81, path: /}\n' + FRONTEND,
      }),
    ).toEqual(['services.yml:7:14 F2002']);
  });

  it('paths compare with and without a trailing slash', () => {
    expect(
      at({
        'services.yml':
          'a:\n  public_endpoints:\n    - {name: www, port: 80, path: /api}\nb:\n  scheduling_group: frontend\n  public_endpoints:\n    - {name: www, port: 81, path: /api/}\n' + FRONTEND,
      }),
    ).toEqual(['services.yml:7:14 F2002']);
  });

  it('an endpoint with neither name nor domains', () => {
    expect(at({ 'services.yml': 'a:\n  public_endpoints:\n    - {port: 80}\n' + FRONTEND })).toEqual(['services.yml:3:7 F1003']);
  });

  it('public TCP ports: a public_port clashing with another port used as public', () => {
    expect(
      at({
        'services.yml':
          'a:\n  public_tcp_endpoints:\n    - {name: a, port: 2525, public_port: 25}\nb:\n  scheduling_group: backend\n  public_tcp_endpoints:\n    - {name: b, port: 25}\n' + FRONTEND,
      }),
    ).toEqual(['services.yml:7:23 F2010']);
  });

  it("public TCP ports: the frontends' own DNS, HTTP and HTTPS ports are refused", () => {
    expect(
      at({
        'services.yml': 'a:\n  public_tcp_endpoints:\n    - {name: a, port: 8443, public_port: 443}\n    - {name: d, port: 53}\n' + FRONTEND,
      }),
    ).toEqual(['services.yml:3:42 F2010', 'services.yml:4:23 F2010']);
  });
});

describe('overlays and addresses (F2008, F2009)', () => {
  const globals = 'domain: i.example.com\ndomain_public: [example.com]\nnet_overlays:\n  - {name: vpn, network: 192.168.0.0/24}\n  - {name: bad, network: 10.0.0.0/40}\n';
  it('an overlay network that is not CIDR, and an overlay address that is not IPv4', () => {
    expect(
      at({
        'group_vars/all.yml': globals,
        'hosts.yml': 'hosts:\n  h1:\n    ips: [10.0.0.1]\n    ip_vpn: "fd00::1"\n',
        'services.yml': 'a: {}\n',
      }),
    ).toEqual(['group_vars/all.yml:5:26 F2008', 'hosts.yml:4:13 F2008']);
  });

  it('the same address on two overlays is fine; on one overlay it is not', () => {
    expect(
      at({
        'group_vars/all.yml':
          'domain: i.example.com\ndomain_public: [example.com]\nnet_overlays:\n  - {name: a, network: 192.168.0.0/24}\n  - {name: b, network: 192.168.0.0/24}\n',
        'hosts.yml':
          'hosts:\n  h1:\n    ips: [10.0.0.1]\n    ip_a: 192.168.0.1\n  h2:\n    ips: [10.0.0.2]\n    ip_b: 192.168.0.1\n  h3:\n    ips: [10.0.0.3]\n    ip_b: 192.168.0.1\n',
        'services.yml': 'a: {}\n',
      }),
    ).toEqual(['hosts.yml:10:11 F2009']);
  });

  it('hosts in an overlay form the overlay_<net> group, usable for scheduling', () => {
    expect(
      at({
        'group_vars/all.yml': globals.split('\n  - {name: bad')[0] + '\n',
        'hosts.yml': 'hosts:\n  h1:\n    ips: [10.0.0.1]\n    ip_vpn: 192.168.0.1\n',
        'services.yml': 'a:\n  scheduling_group: overlay_vpn\n',
      }),
    ).toEqual([]);
  });
});

describe('scheduling references', () => {
  it('schedule_with naming a disabled service is an unknown service', () => {
    expect(at({ 'services.yml': 'a:\n  enabled: false\nb:\n  schedule_with: a\n' })).toEqual(['services.yml:4:18 F2005']);
  });

  it('a service scheduling with itself is a cycle', () => {
    expect(at({ 'services.yml': 'a:\n  schedule_with: a\n' })).toEqual(['services.yml:2:18 F2006']);
  });

  it('num_instances larger than the hosts of its groups, counted across scheduling_groups', () => {
    expect(at({ 'services.yml': 'a:\n  scheduling_groups: [frontend, backend]\n  num_instances: 3\nb:\n  scheduling_groups: [frontend, backend]\n  num_instances: 4\n' })).toEqual([
      'services.yml:6:18 F2004',
    ]);
  });
});

describe("public endpoints need float's built-in services (F2023)", () => {
  it('an endpoint without a frontend service says to include services.default.yml, at the endpoint', () => {
    const d = diagnose({
      'services.yml': 'web:\n  scheduling_group: backend\n  public_endpoints:\n    - {name: www, port: 8080}\ntcp:\n  scheduling_group: backend\n  public_tcp_endpoints:\n    - {name: smtp, port: 2525}\n',
    });
    expect(d.map((x) => x.at)).toEqual(['services.yml:4:7 F2023', 'services.yml:8:7 F2023']);
    expect(d[0].message).toContain('services.default.yml');
    expect(at({ 'services.yml': 'web:\n  scheduling_group: backend\n  public_endpoints:\n    - {name: www, port: 8080}\n' + FRONTEND })).toEqual([]);
  });

  it('outside testing, HTTP names need the acme service; passthrough names and skip_acme do not', () => {
    const globals = 'domain: internal.example.com\ndomain_public: [example.com]\ntesting: false\n';
    const web = 'web:\n  scheduling_group: backend\n  public_endpoints:\n    - {name: www, port: 8080}\n' + FRONTEND;
    expect(at({ 'group_vars/all.yml': globals, 'services.yml': web })).toEqual(['services.yml:4:7 F2023']);
    expect(at({ 'services.yml': web })).toEqual([]);
    expect(at({ 'group_vars/all.yml': globals, 'services.yml': web.replace('port: 8080}', 'port: 8080, mode: tls-passthrough}') })).toEqual([]);
    expect(at({ 'group_vars/all.yml': globals, 'services.yml': web.replace('  public_endpoints', '  skip_acme: true\n  public_endpoints') })).toEqual([]);
  });
});

describe('attributes no role acts on yet (F2030)', () => {
  it('one warning per attribute, naming it and what is missing, at its first use', () => {
    const d = diagnose({
      'group_vars/all.yml': 'domain: internal.example.com\ndomain_public: [example.com]\nmail_relay: {server: m, port: 25, user: u, password: p, root_user: r}\nprometheus_lts_scrape_interval: 10s\nprometheus_scrape_interval: 10s\n',
      // monitoring_endpoints and prometheus_scrape_interval are acted on (float-infra-prometheus): no warning.
      'services.yml':
        'a:\n  scheduling_group: backend\n  datasets:\n    - {name: db, path: /var/lib/a}\n  monitoring_endpoints:\n    - {port: 9100}\nb:\n  scheduling_group: backend\n  monitoring_endpoints:\n    - {port: 9200}\n  volumes:\n    - {name: v, path: /v, size: 1G}\n',
    });
    // mail_relay and volumes are acted on (float-base-mail, float-base-volumes): no warning.
    expect(d.map((x) => `${x.at} ${x.severity}`)).toEqual([
      'group_vars/all.yml:4:1 F2030 warning',
      // datasets are acted on: without a backup repository, that is worth a warning of its own.
      'services.yml:3:3 F2122 warning',
    ]);
    expect(d[0].message).toMatch(/^global variable 'prometheus_lts_scrape_interval' is accepted but not acted on: .*long-term storage/);
  });

  it('an empty list, or an attribute not written, is no warning; acme_private_key is; net_overlays (the WireGuard mesh) is not', () => {
    expect(diagnose({ 'services.yml': 'a:\n  datasets: []\n  volumes: []\n' })).toEqual([]);
    const d = diagnose({ 'group_vars/all.yml': 'domain: i.example.com\ndomain_public: [example.com]\nacme_private_key: k\nnet_overlays: [{name: vpn0, network: 192.168.0.0/24}]\n' });
    expect(d.map((x) => x.at)).toEqual(['group_vars/all.yml:3:1 F2030']);
    expect(d[0].message).toContain('certbot');
  });

  it('an attribute with a default warns only where it is written (healthcheck_http_method)', () => {
    const svc = (extra: string) => `a:\n  scheduling_group: backend\n  monitoring_endpoints:\n    - port: 9100\n      scheme: http\n${extra}`;
    expect(diagnose({ 'services.yml': svc('') })).toEqual([]);
    const d = diagnose({ 'services.yml': svc('      healthcheck_http_method: GET\n') });
    expect(d.map((x) => x.at)).toEqual(['services.yml:6:7 F2030']);
    expect(d[0].message).toMatch(/^'healthcheck_http_method' of a monitoring endpoint of service 'a' is accepted but not acted on: /);
  });

  it('enable_sso_proxy: true is enforced by the frontends (admin-only endpoints), so it is no longer refused', () => {
    const services = (v: boolean) => `a:\n  scheduling_group: backend\n  public_endpoints:\n    - {name: admin, port: 8080, enable_sso_proxy: ${v}}\n` + FRONTEND;
    expect(diagnose({ 'services.yml': services(true) })).toEqual([]);
    expect(diagnose({ 'services.yml': services(false) })).toEqual([]);
  });
});

describe('scheduling groups and schedule_with: checked in one place, reported once', () => {
  for (const scheduler of ['stable', 'float-compat']) {
    it(`${scheduler}: each mistake once, at the list item or attribute`, () => {
      expect(
        at({
          'config.yml': `plugin: float\nscheduler: ${scheduler}\n`,
          'services.yml':
            'a:\n  scheduling_groups: [backend, nope, gone]\nb:\n  schedule_with: ghost\nc:\n  schedule_with: d\nd:\n  schedule_with: c\ne:\n  schedule_with: c\nf:\n  master_election: true\n  master_scheduling_group: nope\n',
        }),
      ).toEqual([
        'services.yml:2:32 F2003',
        'services.yml:2:38 F2003',
        'services.yml:4:18 F2005',
        'services.yml:6:18 F2006',
        'services.yml:8:18 F2006',
        'services.yml:13:28 F2003',
      ]);
    });
  }
});
