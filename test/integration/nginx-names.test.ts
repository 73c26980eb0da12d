// The strings float accepts (issue 14) are safe where nginx reads them: a
// configuration at the edge of what the load-time checks allow (paths with every
// permitted character, names in capitals with the root's dot, header values with
// ';' and braces, redirect URLs with queries, blocked patterns with quotes and
// regex characters) is rendered by the role's template and accepted by `nginx -t`,
// each value landing as one token where it belongs.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { frontendVars, type HttpUpstream } from '../../src/inventory/derive.js';
import { makeContext } from '../../src/inventory/context.js';
import { plan } from '../../src/plan.js';
import { renderRoleTemplates } from '../helpers/render-role.js';
import { REPO_ROOT, writeTree } from '../helpers/tree.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const GLOBALS = [
  'domain: internal.example.com',
  'domain_public: [example.com, Example.ORG.]',
  'nginx_global_custom_headers:',
  "  X-Custom_1: 'a; b {c} #d'",
  'nginx_top_level_domain_redirects:',
  "  example.net: 'https://www.example.com/a/b?x=1&y=2#frag'",
  `nginx_blocked_user_agents: ["Evil Bot/1\\\\.0 \\\\d+ 'q'", "(?:a|b){2}"]`,
  'nginx_blocked_urls: ["example.com/a+b(c)[d]*"]',
  '',
].join('\n');

const SERVICES = [
  `include: ${REPO_ROOT}/services.default.yml`,
  'web:',
  '  scheduling_group: backend',
  '  public_endpoints:',
  '    - {name: www, port: 8080, scheme: http}',
  '    - {name: www, port: 8081, scheme: http, path: "/a~b@c:d+e,f=g-h_i.j//"}',
  '    - {name: 0-x9, port: 8082, scheme: http, domains: [Shop.Example.COM.], mode: http}',
  '  horizontal_endpoints:',
  '    - {path: /.well-known/x~y, port: 8083}',
  '',
].join('\n');

describe('nginx reads the accepted strings as one token each', { timeout: 180_000 }, () => {
  it('the role template, rendered with edge-of-valid names, paths and globals, passes nginx -t', () => {
    const cfgDir = writeTree({
      'config.yml': 'plugin: float\n',
      'group_vars/all.yml': GLOBALS,
      'hosts.yml': 'hosts:\n  fe1:\n    ips: [10.0.0.1]\n    groups: [frontend]\n  be1:\n    ips: [10.0.0.2]\n    groups: [backend]\n',
      'services.yml': SERVICES,
    });
    dirs.push(cfgDir);
    const p = plan(join(cfgDir, 'config.yml'));
    expect(p.diagnostics).toEqual([]);
    const fv = frontendVars(makeContext(p.model, p.schedule));
    // nginx -t resolves upstream servers: the instances' names exist only on the fleet.
    const upstreams = (fv.float_http_upstreams as HttpUpstream[]).map((u) => ({ ...u, targets: ['127.0.0.1'], port: u.port }));
    const dir = mkdtempSync(join(tmpdir(), 'float-nginx-'));
    dirs.push(dir);
    const g = p.model.globals as Record<string, unknown>;
    renderRoleTemplates(
      'float-infra-nginx',
      dir,
      {
        ...fv,
        float_http_upstreams: upstreams,
        domain: g.domain,
        nginx_global_custom_headers: g.nginx_global_custom_headers,
        nginx_top_level_domain_redirects: g.nginx_top_level_domain_redirects,
        nginx_blocked_user_agents: g.nginx_blocked_user_agents,
        nginx_blocked_urls: g.nginx_blocked_urls,
        float_public_credentials_dir: join(dir, 'public'),
        float_nginx_cache_dir: join(dir, 'cache'),
        float_nginx_acme_webroot: join(dir, 'acme'),
        float_nginx_admin_dir: join(dir, 'float-admin'),
      },
      [{ src: 'float.conf.j2', dest: join(dir, 'float.conf') }],
    );
    const conf = readFileSync(join(dir, 'float.conf'), 'utf8');
    // A certificate for every name nginx serves (one self-signed pair, copied).
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=test', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const names = [...new Set([...conf.matchAll(/ssl_certificate "?[^\s"]+\/public\/([^/\s"]+)\/fullchain\.pem"?;/g)].map((m) => m[1]))];
    // The configuration's own names (the built-in admin endpoints come in every public domain too).
    expect(names.filter((n) => !/^(monitoring|dashboard|alertmanager)\./.test(n)).sort()).toEqual(['0-x9.Example.ORG.', '0-x9.example.com', 'Shop.Example.COM.', 'example.net', 'www.Example.ORG.', 'www.example.com'].sort());
    mkdirSync(join(dir, 'float-admin'), { recursive: true });
    copyFileSync(join(dir, 'cert.pem'), join(dir, 'float-admin', 'ca.pem'));
    for (const n of names) {
      mkdirSync(join(dir, 'public', n), { recursive: true });
      copyFileSync(join(dir, 'cert.pem'), join(dir, 'public', n, 'fullchain.pem'));
      copyFileSync(join(dir, 'key.pem'), join(dir, 'public', n, 'privkey.pem'));
    }
    writeFileSync(
      join(dir, 'nginx.conf'),
      `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp {\n  access_log off;\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n  include ${dir}/float.conf;\n}\n`,
    );
    const t = spawnSync('nginx', ['-t', '-c', join(dir, 'nginx.conf'), '-p', dir], { encoding: 'utf8' });
    expect(t.status, t.stderr + '\n' + conf).toBe(0);
    // Each value is where it belongs, as one quoted token.
    expect(conf).toContain('    server_name "www.example.com";\n');
    expect(conf).toContain('    server_name "Shop.Example.COM.";\n');
    expect(conf).toContain('    location "/a~b@c:d+e,f=g-h_i.j/" {\n');
    expect(conf).toContain('    add_header "X-Custom_1" "a; b {c} #d" always;\n');
    expect(conf).toContain('        return 301 "https://www.example.com/a/b?x=1&y=2#frag";\n');
  });
});
