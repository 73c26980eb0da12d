// Hostile strings in the configuration (issue 14): each reproduced injection is
// now a positioned error with its code, through the real CLI, and nothing is written.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tryPlan } from '../../src/plan.js';
import { REPO_ROOT, baseTree, writeTree } from '../helpers/tree.js';

/** Every config.yml under a directory. */
function configsUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) return configsUnder(p);
    return e === 'config.yml' ? [p] : [];
  });
}

interface Run {
  code: number;
  stdout: string;
  errors: string[];
  dir: string;
}

function float(cmd: string[], files: Record<string, string>, opts: { base?: boolean; cwd?: string } = {}): Promise<Run> {
  const dir = writeTree(opts.base === false ? files : baseTree(files));
  const cwd = opts.cwd ? join(dir, opts.cwd) : dir;
  const bin = join(REPO_ROOT, 'bin/float.mjs');
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...cmd, '--config', 'config.yml'], { cwd, env: { ...process.env, ANSIBLE_VAULT_PASSWORD_FILE: '' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, errors: stderr.split('\n').filter((l) => l !== ''), dir });
    });
  });
}

const check = (files: Record<string, string>) => float(['check'], files);

/** The errors (and warnings) as "FILE:LINE:COL CODE", without the summary line. */
function coded(r: Run): string[] {
  // Warnings about attributes no role acts on yet (F2030) are not what these tests are about.
  return r.errors.filter((l) => /\[F\d+\]$/.test(l) && !l.endsWith('[F2030]')).map((l) => `${l.split(': ')[0]} ${/\[(F\d+)\]$/.exec(l)![1]}`);
}

function expectClean(r: Run): void {
  expect(r.errors.join('\n')).not.toMatch(/^\s+at |internal error/m);
}

// The built-in frontend service is appended (public endpoints need it: F2023), after the lines the tests position errors on.
const service = (body: string) => ({ 'services.yml': `web:\n  scheduling_group: backend\n${body}frontend:\n  scheduling_group: frontend\n` });

describe.concurrent('hostile configuration strings (float check)', { timeout: 60_000 }, () => {
  it('a host named ../../../../x: F1011 at the name; compile writes nothing outside the inventory', async () => {
    const files = {
      'hosts.yml': 'hosts:\n  "../../../../x":\n    ips: [10.0.0.1]\n    groups: [backend]\n',
    };
    const r = await check(files);
    expect(r.code).toBe(2);
    expect(r.errors[0]).toMatch(/^hosts\.yml:2:3: error: host name "\.\.\/\.\.\/\.\.\/\.\.\/x" must be a DNS label.* \[F1011\]$/);
    expectClean(r);
    // The same through compile, from a nested directory, so ../../../../x would land inside the fixture.
    const nested = Object.fromEntries(Object.entries(baseTree(files)).map(([k, v]) => [`a/b/c/d/${k}`, v]));
    const c = await float(['compile'], nested, { base: false, cwd: 'a/b/c/d' });
    expect(c.code).toBe(2);
    expect(coded(c)).toEqual(['hosts.yml:2:3 F1011']);
    expect(existsSync(join(c.dir, 'a/x'))).toBe(false);
    // Where the escape would land from compile's staging directory (a/b/c/d/.float/.inventory.*/host_vars/).
    expect(existsSync(join(c.dir, 'a/b/c/x'))).toBe(false);
    expect(existsSync(join(c.dir, 'a/b/c/d/.float'))).toBe(false);
  });

  it('uppercase, dotted and overlong host names, and a bad shard_id', async () => {
    const r = await check({
      'hosts.yml': [
        'hosts:',
        '  Host1:',
        '    ips: [10.0.0.1]',
        '    groups: [backend]',
        '  a.b:',
        '    ips: [10.0.0.2]',
        `  ${'h'.repeat(64)}:`,
        '    ips: [10.0.0.3]',
        '  ok:',
        '    ips: [10.0.0.4]',
        '    shard_id: "1 2"',
        '',
      ].join('\n'),
    });
    expect(r.code).toBe(2);
    expect(coded(r)).toEqual(['hosts.yml:2:3 F1011', 'hosts.yml:5:3 F1011', 'hosts.yml:7:3 F1011', 'hosts.yml:11:15 F1013']);
  });

  it('a credential named ../../../pwned: F1012; init-credentials writes nothing', async () => {
    const files = service('  service_credentials:\n    - name: ../../../pwned\n');
    const r = await check(files);
    expect(r.code).toBe(2);
    expect(r.errors[0]).toMatch(/^services\.yml:4:13: error: credential name "\.\.\/\.\.\/\.\.\/pwned" must be a DNS label.* \[F1012\]$/);
    const c = await float(['init-credentials'], files);
    expect(c.code).toBe(2);
    expect(coded(c)).toEqual(['services.yml:4:13 F1012']);
    expect(readdirSync(c.dir).sort()).toEqual(['config.yml', 'group_vars', 'hosts.yml', 'services.yml']);
  });

  it('a credential name too long for its <cred>-credentials group: F1012', async () => {
    const r = await check(service(`  service_credentials:\n    - name: ${'c'.repeat(21)}\n`));
    expect(coded(r)).toEqual(['services.yml:4:13 F1012']);
    expect(r.errors[0]).toContain(`group '${'c'.repeat(21)}-credentials'`);
    const ok = await check(service(`  service_credentials:\n    - name: ${'c'.repeat(20)}\n`));
    expect(ok.code).toBe(0);
  });

  it('an endpoint name "www; return 302 http://evil" (nginx server_name): F1014', async () => {
    const r = await check(service('  public_endpoints:\n    - name: "www; return 302 http://evil"\n      port: 8080\n'));
    expect(r.code).toBe(2);
    expect(r.errors[0]).toMatch(/^services\.yml:4:13: error: public endpoint name "www; return 302 http:\/\/evil" is not a DNS name.* \[F1014\]$/);
    expectClean(r);
  });

  it('domains, public_other_endpoints, domain and domain_public are DNS names: F1014', async () => {
    const r = await check({
      'group_vars/all.yml': 'domain: "internal example"\ndomain_public: [example.com, "evil.com;"]\n',
      ...service(
        '  public_endpoints:\n    - {name: www, port: 8080, domains: ["a b.example.com", Ok.Example.com.]}\n  public_other_endpoints:\n    - name: "irc\\tx"\n',
      ),
    });
    expect(r.code).toBe(2);
    expect(coded(r)).toEqual([
      'group_vars/all.yml:1:9 F1014',
      'group_vars/all.yml:2:30 F1014',
      'services.yml:4:41 F1014',
      'services.yml:6:13 F1010',
      'services.yml:6:13 F1014',
    ]);
  });

  it('names too long once the domain is added (253 characters): F1014', async () => {
    const long = Array.from({ length: 4 }, () => 'a'.repeat(60)).join('.');
    const r = await check(service(`  public_endpoints:\n    - {name: ${long}, port: 8080}\n  service_credentials:\n    - {name: web, extra_san: [${long}]}\n`));
    expect(coded(r)).toEqual(['services.yml:4:14 F1014', 'services.yml:6:31 F1014']);
    expect(r.errors[0]).toContain('with its domain');
  });

  it('extra_san: a wildcard is F1015, a bad name F1014', async () => {
    const r = await check(service('  service_credentials:\n    - name: web\n      extra_san: ["*", "x/y", good-name]\n'));
    expect(coded(r)).toEqual(['services.yml:5:19 F1015', 'services.yml:5:24 F1014']);
  });

  it('service names: uppercase, or too long for docker-<svc> (32 characters): F1016', async () => {
    const long = 's'.repeat(26);
    const r = await check({ 'services.yml': `Web:\n  scheduling_group: backend\n${long}:\n  scheduling_group: backend\n${'t'.repeat(25)}:\n  scheduling_group: backend\n` });
    expect(coded(r)).toEqual(['services.yml:1:1 F1016', 'services.yml:3:1 F1016']);
    expect(r.errors[1]).toContain(`'docker-${long}'`);
  });

  it('endpoint paths nginx would misread: F1017', async () => {
    const paths = ['"/a b"', '"/a;b"', '"/a{b}"', '"/a#b"', '"/a?b"', '"/a\'b"', '"/a\\"b"', '/a/../b', '"/a$b"'];
    const r = await check(service(`  public_endpoints:\n${paths.map((p, i) => `    - {name: w${i}, port: 8080, path: ${p}}\n`).join('')}  horizontal_endpoints:\n    - {path: "/x y", port: 8081}\n`));
    expect(coded(r)).toEqual([...paths.map((_, i) => `services.yml:${4 + i}:`), `services.yml:${5 + paths.length}:`].map((p) => expect.stringMatching(new RegExp(`^${p}\\d+ F1017$`))));
    const ok = await check(service('  public_endpoints:\n    - {name: w, port: 8080, path: /api/v1.2/~user@x}\n'));
    expect(ok.code).toBe(0);
  });

  it('env keys are shell identifiers: F1018', async () => {
    const r = await check(service('  containers:\n    - name: c\n      image: app:1\n      env:\n        "A B": x\n        1A: x\n        "A=B": x\n        GOOD_1: ok\n'));
    expect(coded(r)).toEqual(['services.yml:7:9 F1018', 'services.yml:8:9 F1018', 'services.yml:9:9 F1018']);
  });

  it('a newline in an env value, an image or args (systemd unit and env file lines): F1010', async () => {
    const r = await check(
      service(
        '  containers:\n    - name: c\n      image: "app:1\\nExecStartPre=/bin/touch /tmp/x"\n      args: "--a\\nExecStartPre=/bin/true"\n      docker_options: "--x\\r"\n      env:\n        A: "x\\nLD_PRELOAD=/tmp/x.so"\n',
      ),
    );
    expect(r.code).toBe(2);
    expect(coded(r)).toEqual(['services.yml:5:14 F1010', 'services.yml:5:14 F1019', 'services.yml:6:13 F1010', 'services.yml:7:23 F1010', 'services.yml:9:12 F1010']);
    expect(r.errors[0]).toMatch(/contains the control character U\+000A \(this value must be one line\)/);
  });

  it('image references: spaces and options are F1019, real references pass', async () => {
    const bad = ['"app --privileged"', '"-app"', '"App:1"', '"app:"'];
    const r = await check(service(`  containers:\n${bad.map((b, i) => `    - {name: c${i}, image: ${b}}\n`).join('')}`));
    expect(coded(r)).toEqual(bad.map((_, i) => `services.yml:${4 + i}:`).map((p) => expect.stringMatching(new RegExp(`^${p}\\d+ F1019$`))));
    const good = ['app', 'localhost/busybox:latest', 'registry.example.com:5000/a/b-c_d:v1.2', `app@sha256:${'ab'.repeat(32)}`];
    const ok = await check(service(`  containers:\n${good.map((b, i) => `    - {name: c${i}, image: "${b}"}\n`).join('')}`));
    expect(ok).toMatchObject({ code: 0, errors: [] });
  });

  it('volume sources and targets: F1020', async () => {
    const r = await check(
      service('  containers:\n    - name: c\n      image: app\n      volumes:\n        - "/a b": /x\n        - /src: "/t:ro,z"\n        - /s2: "/t --privileged"\n        - tmpfs: /tmp\n        - "/x:/y": /z\n'),
    );
    expect(coded(r)).toEqual(['services.yml:7:11 F1020', 'services.yml:9:16 F1020', 'services.yml:11:11 F1020']);
  });

  it('a newline in a public TCP endpoint name (nftables rule comment): F1010 and F1021', async () => {
    const r = await check(service('  public_tcp_endpoints:\n    - name: "smtp\\"\\n tcp dport 22 accept #"\n      port: 2525\n'));
    expect(coded(r)).toEqual(['services.yml:4:13 F1010', 'services.yml:4:13 F1021']);
  });

  it('control characters anywhere, group names, admins keys on one line', async () => {
    const r = await check({
      'group_vars/all.yml':
        'domain: internal.example.com\ndomain_public: [example.com]\nadmins:\n  - name: a\n    ssh_keys: ["ssh-ed25519 AAAA a\\nssh-ed25519 BBBB evil"]\nmy_var: "multi\\nline is fine"\nother: "bell\\a"\n',
      'hosts.yml': 'hosts:\n  host1:\n    ips: [10.0.0.1]\n    groups: [backend, "../x"]\n    note: "x\\u0085y"\ngroup_vars:\n  "a/b":\n    v: 1\n',
    });
    expect(coded(r)).toEqual(['group_vars/all.yml:5:16 F1010', 'group_vars/all.yml:7:8 F1010', 'hosts.yml:4:23 F1022', 'hosts.yml:5:11 F1010', 'hosts.yml:7:3 F1022']);
  });

  it('dataset and volume names are file names, their paths absolute: F1028', async () => {
    const r = await check(
      service('  datasets:\n    - {name: ../db, path: /var/lib/db}\n    - {name: ok, path: "relative/x"}\n  volumes:\n    - {name: ".hidden", path: /srv/v, size: 1G}\n    - {name: data, path: /srv/data, size: 1G}\n'),
    );
    expect(coded(r).filter((c) => !c.endsWith('F2122'))).toEqual(['services.yml:4:14 F1028', 'services.yml:5:24 F1028', 'services.yml:7:14 F1028']);
  });

  it('config.yml values are one line: F1010', async () => {
    const r = await check({ 'config.yml': 'plugin: float\nscheduler_seed: "seed\\nx"\n' });
    expect(coded(r)).toEqual(['config.yml:2:17 F1010']);
  });

  it('multi-line values where they are meant: extra_nginx_config, annotations, backup commands', async () => {
    const r = await check(
      service(
        '  public_endpoints:\n    - name: www\n      port: 8080\n      extra_nginx_config: |\n        add_header X-A a;\n        add_header X-B b;\n  annotations:\n    summary: |\n      two\n      lines\n',
      ),
    );
    expect(r).toMatchObject({ code: 0, errors: [] });
  });

  it('root: true with an egress_policy: warning F1023, exit 0', async () => {
    const r = await check(service('  containers:\n    - name: c\n      image: app\n      root: true\n      egress_policy: none\n    - name: d\n      image: app\n      root: true\n'));
    expect(r.code).toBe(0);
    expect(r.errors).toEqual([expect.stringMatching(/^services\.yml:7:22: warning: container 'c' runs as root: its egress_policy 'none' cannot hold.* \[F1023\]$/)]);
  });

  it('nginx globals pasted into nginx.conf: header names and values, redirects, blocked patterns: F1025', async () => {
    const r = await check({
      'group_vars/all.yml': [
        'domain: internal.example.com',
        'domain_public: [example.com]',
        'nginx_global_custom_headers:',
        '  "X-A; evil": v',
        '  X-B: \'v" always; return 302 http://evil; #\'',
        '  X-Frame-Options: SAMEORIGIN',
        'nginx_top_level_domain_redirects:',
        '  "evil com": https://example.com/',
        '  example.net: "https://example.com/; return 200"',
        '  example.org: https://www.example.org/',
        'nginx_blocked_user_agents: [\'bot" 1; "x\', "ok\\\\d+", "end\\\\"]',
        'nginx_blocked_urls: ["example.com/a b", example.com/private]',
        '',
      ].join('\n'),
    });
    expect(coded(r)).toEqual([
      'group_vars/all.yml:4:3 F1025',
      'group_vars/all.yml:5:8 F1025',
      'group_vars/all.yml:8:3 F1014',
      'group_vars/all.yml:9:16 F1025',
      'group_vars/all.yml:11:29 F1025',
      'group_vars/all.yml:11:53 F1025',
      'group_vars/all.yml:12:22 F1025',
    ]);
  });

  it('static_host_entries: a DNS name and an IP address (each an /etc/hosts line): F1014, F1026', async () => {
    const r = await check({
      'group_vars/all.yml': 'domain: internal.example.com\ndomain_public: [example.com]\nstatic_host_entries:\n  - {host: "a b", addr: 10.0.0.9}\n  - {host: ok.example.com, addr: "10.0.0.9 evil"}\n',
    });
    expect(coded(r)).toEqual(['group_vars/all.yml:4:12 F1014', 'group_vars/all.yml:5:34 F1026']);
  });

  it('systemd_services entries are unit names: F1027', async () => {
    const r = await check(service('  systemd_services: [web.service, "../../x.service", "a b.service", noext, backup.timer]\n'));
    expect(coded(r)).toEqual(['services.yml:3:35 F1027', 'services.yml:3:54 F1027', 'services.yml:3:69 F1027']);
  });

  it('no false alarms: the example and reference configurations pass every string check', () => {
    const configs = [...configsUnder(join(REPO_ROOT, 'examples')), ...configsUnder(join(REPO_ROOT, 'test/fixtures'))];
    expect(configs.length).toBeGreaterThan(5);
    for (const c of configs) {
      const found = tryPlan(c).diagnostics.filter((d) => /^F10[1-2]\d$/.test(d.code));
      expect(found, c).toEqual([]);
    }
  });
});
