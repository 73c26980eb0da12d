// Public certificates for real: two frontends and a backend booted locally, with
// testing off, against a real ACME server (Debian's pebble) on the bridge. The
// challenge arrives at whichever frontend the public DNS (our bind9) names, is
// routed to certbot on the acme host, and both frontends end up serving the
// issued certificate; a renewal reaches the other frontend through the sync.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envDown } from '../../src/env/local-hosts.js';
import { pickFreeNetwork } from '../../src/env/spec.js';
import { LOCAL_HOSTS_GROUP_VARS, LOCAL_PODMAN_VARS, LocalEnv, changedTasks, e2eSkipReason, recap } from '../helpers/local-env.js';
import { skipUnlessRequired } from '../helpers/prerequisites.js';
import { REPO_ROOT, writeTree } from '../helpers/tree.js';

const pebbleMissing = spawnSync('sh', ['-c', 'command -v pebble'], { encoding: 'utf8' }).status !== 0;
const skipReason =
  e2eSkipReason ?? skipUnlessRequired('the ACME e2e test', pebbleMissing ? 'pebble (the ACME test server) is not installed: apt-get install pebble' : undefined);

const DOMAIN = 'infra.test';
const NAME = 'www.example.test';
/** Requested through /etc/acme/certs.d: the zone apex, which float's DNS points at the frontends. */
const EXTRA = 'example.test';

describe.skipIf(skipReason !== undefined)('public certificates from a real ACME server', { timeout: 15 * 60_000 }, () => {
  let env: LocalEnv | undefined;
  let pebble: ChildProcess | undefined;
  let pebbleLog = '';
  let ip: Record<string, string> = {};
  let acmeHost = '';
  let otherFrontend = '';

  /** The certificate a frontend presents for NAME: issuer and serial. */
  const served = (host: string) =>
    execFileSync('sh', ['-c', `openssl s_client -connect ${ip[host]}:443 -servername ${NAME} </dev/null 2>/dev/null | openssl x509 -noout -issuer -serial`], {
      encoding: 'utf8',
    }).trim();

  /** What `served(host)` returns once it satisfies `ok`, polling for up to 15 s (nginx reloads asynchronously). */
  const servedWhen = (host: string, ok: (cert: string) => boolean) => {
    let cert = served(host);
    for (let i = 0; i < 30 && !ok(cert); i++) {
      spawnSync('sleep', ['0.5']);
      cert = served(host);
    }
    return cert;
  };

  beforeAll(async () => {
    const network = pickFreeNetwork();
    const p = network.split('.').slice(0, 3).join('.');
    const gw = `${p}.1`;
    ip = { fe1: `${p}.10`, fe2: `${p}.11`, be1: `${p}.12` };
    const dir = writeTree(
      {
        'config.yml': `plugin: float\nvault_password_file: .vault_password\ntest_env:\n  network: ${network}\n`,
        '.vault_password': 'acme-e2e-vault-password\n',
        '.gitignore': '.float/\n.float-env/\n.vault_password\ncredentials/\npebble/\n',
        'hosts.yml': `hosts:
  fe1: {ips: [${ip.fe1}], ansible_host: ${ip.fe1}, groups: [frontend]}
  fe2: {ips: [${ip.fe2}], ansible_host: ${ip.fe2}, groups: [frontend]}
  be1: {ips: [${ip.be1}], ansible_host: ${ip.be1}, groups: [backend]}
${LOCAL_HOSTS_GROUP_VARS}`,
        'group_vars/all/config.yml': `domain: ${DOMAIN}
domain_public: [example.test]
testing: false
acme_directory_url: https://${gw}:14000/dir
acme_ca_bundle: /etc/float-test/pebble.pem
${LOCAL_PODMAN_VARS}`,
        'services.yml': `include: ${REPO_ROOT}/services.default.yml
web:
  scheduling_group: backend
  service_credentials:
    - name: web
  containers:
    - name: http
      image: localhost/busybox:latest
      port: 8080
      args: /bin/httpd -f -p 8080 -h /etc
  public_endpoints:
    - name: www
      port: 8080
      scheme: http
`,
        'passwords.yml': '[]\n',
        // The test ACME server's own TLS certificate must be trusted by certbot.
        'site.yml': `- name: Trust the test ACME server
  hosts: frontend
  tasks:
    - name: Directory
      ansible.builtin.file: {path: /etc/float-test, state: directory, mode: "0755"}
    - name: CA
      ansible.builtin.copy: {src: pebble/cert.pem, dest: /etc/float-test/pebble.pem, mode: "0644"}
    # What an operator's role does for a certificate float does not compile (on every frontend: only the acme host reads it).
    - name: Additional certificate requests
      ansible.builtin.file: {path: /etc/acme/certs.d, state: directory, mode: "0755"}
    - name: One more certificate, with two names
      ansible.builtin.copy: {dest: /etc/acme/certs.d/extra.yml, content: "- names: [${EXTRA}, ${NAME}]\n", mode: "0644"}
- import_playbook: ${REPO_ROOT}/playbooks/all.yml
`,
      },
      'float-acme-e2e-',
    );
    env = new LocalEnv(dir);
    // pebble: HTTPS API on the bridge address, challenges to port 80, names resolved by the frontends' bind9.
    const pdir = join(dir, 'pebble');
    execFileSync('sh', ['-c', `mkdir -p ${pdir} && cd ${pdir} && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=pebble -addext subjectAltName=IP:${gw} -keyout key.pem -out cert.pem 2>/dev/null`]);
    writeFileSync(
      join(pdir, 'config.json'),
      JSON.stringify({
        pebble: {
          listenAddress: `${gw}:14000`,
          managementListenAddress: `${gw}:15000`,
          certificate: join(pdir, 'cert.pem'),
          privateKey: join(pdir, 'key.pem'),
          httpPort: 80,
          tlsPort: 443,
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
        },
      }),
    );
    await env.up();
    pebble = spawn('pebble', ['-config', join(pdir, 'config.json'), '-dnsserver', `${ip.fe1}:53`, '-strict=false'], {
      env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    pebble.stdout!.on('data', (d) => (pebbleLog += d));
    pebble.stderr!.on('data', (d) => (pebbleLog += d));
    const schedule = JSON.parse(env.float(['schedule', '--json']).out) as { assignments: Record<string, string[]> };
    acmeHost = schedule.assignments.acme[0];
    otherFrontend = acmeHost === 'fe1' ? 'fe2' : 'fe1';
  }, 45 * 60_000);

  afterAll(async () => {
    pebble?.kill();
    if (env && process.env.FLOAT_E2E_KEEP) console.log(`FLOAT_E2E_KEEP: hosts left running for ${env.dir}`);
    else if (env) {
      console.log(`ACME e2e timings:\n  ${env.timings.join('\n  ')}`);
      if (env.spec) await envDown(env.spec).catch((e) => console.error(`env down failed: ${(e as Error).message}`));
      rmSync(env.dir, { recursive: true, force: true });
    }
  }, 5 * 60_000);

  it('float run gets a certificate over http-01 and both frontends serve it', () => {
    const r = env!.floatRun(['site.yml'], 'first float run site.yml');
    expect(r.status, r.out.slice(-4000)).toBe(0);
    expect(r.out).not.toContain('no certificate for');
    expect(env!.on(acmeHost, `test -s /etc/letsencrypt/live/${NAME}/fullchain.pem`).status, pebbleLog.slice(-2000)).toBe(0);
    const a = servedWhen('fe1', (c) => /Pebble/.test(c));
    const b = servedWhen('fe2', (c) => c === a);
    expect(a).toMatch(/issuer=.*Pebble/);
    expect(b, r.out.split('PLAY [Public certificates]')[1]).toBe(a);
  });

  it('a certificate asked for in /etc/acme/certs.d is issued with all its names and reaches every frontend', () => {
    const sans = env!.on(acmeHost, `openssl x509 -noout -ext subjectAltName -in /etc/letsencrypt/live/${EXTRA}/fullchain.pem`);
    expect(sans.status, sans.out).toBe(0);
    expect(sans.out).toContain(`DNS:${EXTRA}`);
    expect(sans.out).toContain(`DNS:${NAME}`);
    for (const h of ['fe1', 'fe2']) {
      const got = env!.on(h, `openssl x509 -noout -issuer -ext subjectAltName -in /etc/credentials/public/${EXTRA}/fullchain.pem`);
      expect(got.status, `${h}: ${got.out}`).toBe(0);
      expect(got.out).toMatch(/issuer=.*Pebble/);
      expect(got.out).toContain(`DNS:${EXTRA}`);
    }
  });

  it('public credentials: root:public-credentials, key 0640, on every frontend', () => {
    for (const h of ['fe1', 'fe2']) {
      expect(env!.on(h, `stat -c '%U %G %a' /etc/credentials/public/${NAME}/privkey.pem`).out).toBe('root public-credentials 640');
      expect(env!.on(h, `stat -c '%U %G %a' /etc/credentials/public`).out).toBe('root public-credentials 750');
    }
    // The certificate export answers only clients with a certificate from float's CA.
    const noCert = env!.on(otherFrontend, `curl -s -o /dev/null -w '%{http_code}' --cacert /etc/credentials/x509/host/ca.pem https://acme.${DOMAIN}:5005/certs.tar`).out;
    expect(noCert).toBe('400');
  });

  it('the certificate export answers the frontends only: other certificates of the CA get 403, other hosts cannot connect', () => {
    const url = `https://acme.${DOMAIN}:5005/certs.tar`;
    /** HTTP status of the export for a client certificate (files on `from`), or 'failed: ...' when curl cannot connect. */
    const fetchAs = (from: string, cert: string, key: string) => {
      const r = env!.on(from, `timeout 20 curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert /etc/credentials/x509/host/ca.pem --cert ${cert} --key ${key} ${url}`);
      return r.status === 0 ? r.out : `failed: ${r.status} ${r.out}`;
    };
    const x509 = '/etc/credentials/x509';
    // Positive control: the other frontend's own host certificate gets the bundle.
    expect(fetchAs(otherFrontend, `${x509}/host/client/cert.pem`, `${x509}/host/client/private_key.pem`)).toBe('200');
    // The backend's certificates (its host's and its service's), presented from a frontend, so the
    // firewall lets the connection through and nginx must decide: refused.
    for (const cred of ['host', 'web']) {
      const copy = (f: string) => env!.on(otherFrontend, `mkdir -p /root/be1-${cred} && echo '${env!.on('be1', `base64 -w0 ${x509}/${cred}/client/${f}`).out}' | base64 -d > /root/be1-${cred}/${f}`);
      expect(copy('cert.pem').status).toBe(0);
      expect(copy('private_key.pem').status).toBe(0);
      expect(env!.on(otherFrontend, `openssl verify -CAfile ${x509}/host/ca.pem /root/be1-${cred}/cert.pem`).out, cred).toContain(': OK');
      expect(fetchAs(otherFrontend, `/root/be1-${cred}/cert.pem`, `/root/be1-${cred}/private_key.pem`), cred).toBe('403');
    }
    // From the backend itself the export port is closed. Positive control: the very same command,
    // address pinned the same way, gets through from the other frontend.
    const pinned = `timeout 20 curl -s -o /dev/null --connect-timeout 5 --resolve acme.${DOMAIN}:5005:${ip[acmeHost]} --cacert ${x509}/host/ca.pem --cert ${x509}/host/client/cert.pem --key ${x509}/host/client/private_key.pem ${url}; echo "curl exit $?"`;
    expect(env!.on(otherFrontend, pinned).out).toMatch(/curl exit 0$/);
    const fromBackend = env!.on('be1', pinned);
    expect(fromBackend.out).toMatch(/curl exit (28|7)$/);
    // The frontend's sync still works end to end.
    const sync = env!.on(otherFrontend, 'systemctl start float-acme-sync.service && systemctl is-failed float-acme-sync.service');
    expect(sync.out).toBe('inactive');
  });

  it('a second run changes nothing', () => {
    const again = env!.floatRun(['site.yml'], 'second float run site.yml');
    expect(again.status, again.out.slice(-3000)).toBe(0);
    for (const [h, v] of Object.entries(recap(again.out))) expect(v.changed, `${h}: ${changedTasks(again.out).join('; ')}`).toBe(0);
  });

  it('a renewal on the acme host reaches the other frontend through the sync', () => {
    const before = served(otherFrontend);
    const renew = env!.on(acmeHost, `REQUESTS_CA_BUNDLE=/etc/float-test/pebble.pem certbot renew --force-renewal --cert-name ${NAME} --no-random-sleep-on-renew`);
    expect(renew.status, renew.out).toBe(0);
    const renewed = servedWhen(acmeHost, (c) => c !== before);
    expect(renewed).not.toBe(before);
    expect(renewed).toMatch(/issuer=.*Pebble/);
    const sync = env!.on(otherFrontend, 'systemctl start float-acme-sync.service && journalctl -u float-acme-sync.service -n 5 --no-pager -o cat');
    expect(sync.status, sync.out).toBe(0);
    expect(servedWhen(otherFrontend, (c) => c === renewed), sync.out).toBe(renewed);
  });
});
