// float run against real Debian hosts booted on this machine: fe1 (frontend),
// be1 and be2 (backend). Checks that the base roles make every host run exactly
// what the schedule says, securely, idempotently; that float run passes options
// through; and that it refuses an accidental rollback. Needs root, like
// test/e2e/local-hosts.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envDown, envStatus, envUp } from '../../src/env/local-hosts.js';
import { pickFreeNetwork } from '../../src/env/spec.js';
import { LOCAL_HOSTS_GROUP_VARS, LOCAL_PODMAN_VARS, LocalEnv, changedTasks, e2eSkipReason as skipReason, recap } from '../helpers/local-env.js';
import { REPO_ROOT, writeTree } from '../helpers/tree.js';


const DOMAIN = 'infra.test';

function services(webGroup: string): string {
  return `include: ${REPO_ROOT}/services.default.yml
web:
  scheduling_group: ${webGroup}
  num_instances: 1
  master_election: true
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
api:
  scheduling_group: backend
  ports: [9290]
  service_credentials:
    - name: api
  public_endpoints:
    - name: api
      port: 9290
      scheme: http
      mode: http
  public_tcp_endpoints:
    - name: api-tcp
      port: 9290
      public_port: 2090
  containers:
    - name: http
      image: localhost/busybox:latest
      port: 9290
      args: /bin/httpd -f -p 9290 -h /etc
    - name: private
      image: localhost/busybox:latest
      port: 9999
      args: /bin/httpd -f -p 9999 -h /etc
secure:
  scheduling_group: backend
  service_credentials:
    - name: secure
  systemd_services: [secure-mtls.service, secure-direct.service]
  public_endpoints:
    - name: secure
      port: 7443
      scheme: https
    - name: direct
      port: 7444
      mode: tls-passthrough
jail:
  scheduling_group: backend
  containers:
    - name: main
      image: localhost/busybox:latest
      args: /bin/sleep 1000000
      egress_policy: none
`;
}


describe.skipIf(skipReason !== undefined)('float run on local hosts: base roles', { timeout: 15 * 60_000 }, () => {
  let dir = '';
  let env: LocalEnv | undefined;
  let ip: Record<string, string> = {};
  const float = (args: string[], label?: string) => env!.float(args, label);
  const floatRun = (args: string[], label?: string) => env!.floatRun(args, label);
  const on = (host: string, command: string) => env!.on(host, command);
  const git = (...args: string[]) => env!.git(...args);
  const httpFrom = (host: string, url: string) => on(host, `python3 -c 'import urllib.request as u; print(u.urlopen("${url}", timeout=4).read()[:20])'`);
  const tcpFrom = (host: string, target: string, port: number) => env!.tcpFrom(host, target, port);
  /**
   * A command in a container, bounded from outside (busybox wget crashes with -T):
   * "OUTPUT status=N", N being 124 when it was still waiting after 5 s.
   */
  const inContainer = (host: string, container: string, command: string) =>
    on(host, `timeout 5 podman exec ${container} ${command}; echo " status=$?"`).out;

  beforeAll(async () => {
    const network = pickFreeNetwork();
    const p = network.split('.').slice(0, 3).join('.');
    ip = { fe1: `${p}.10`, be1: `${p}.11`, be2: `${p}.12` };
    dir = writeTree(
      {
        'config.yml': `plugin: float\nvault_password_file: .vault_password\ntest_env:\n  network: ${network}\n`,
        '.vault_password': 'e2e-vault-password\n',
        '.gitignore': '.float/\n.float-env/\n.vault_password\ncredentials/\n',
        'hosts.yml': `hosts:
  fe1:
    ips: [${ip.fe1}]
    ansible_host: ${ip.fe1}
    groups: [frontend]
  be1:
    ips: [${ip.be1}]
    ansible_host: ${ip.be1}
    groups: [backend, zone-a]
  be2:
    ips: [${ip.be2}]
    ansible_host: ${ip.be2}
    groups: [backend, zone-b]
${LOCAL_HOSTS_GROUP_VARS}`,
        'group_vars/all/config.yml': `domain: ${DOMAIN}
domain_public: [example.test]
testing: true
${LOCAL_PODMAN_VARS}`,
        'services.yml': services('zone-a'),
        'passwords.yml': '- {name: e2e_secret, length: 16}\n',
        'site.yml': `- import_playbook: ${REPO_ROOT}/playbooks/all.yml\n- import_playbook: secure.yml\n`,
        // TLS backends with the internal PKI: openssl s_server serving /hostname, one
        // demanding a client certificate (mTLS from nginx), one for TLS passthrough.
        'secure.yml': `- name: TLS test backends
  hosts: secure
  tasks:
    - name: Directory
      ansible.builtin.file:
        path: /srv/secure
        state: directory
        mode: "0755"
    - name: Page
      ansible.builtin.copy:
        dest: /srv/secure/hostname
        content: "{{ inventory_hostname }}\\n"
        mode: "0644"
    - name: Units
      ansible.builtin.copy:
        dest: "/etc/systemd/system/secure-{{ item.name }}.service"
        mode: "0644"
        content: |
          [Service]
          User=docker-secure
          Group=secure-credentials
          WorkingDirectory=/srv/secure
          ExecStart=/usr/bin/openssl s_server -quiet -accept {{ item.port }} -cert /etc/credentials/x509/secure/server/cert.pem -key /etc/credentials/x509/secure/server/private_key.pem -CAfile /etc/credentials/x509/secure/ca.pem {{ item.verify }} -WWW
          [Install]
          WantedBy=multi-user.target
      loop:
        - {name: mtls, port: 7443, verify: "-Verify 1 -verify_return_error"}
        - {name: direct, port: 7444, verify: ""}
      register: units
    - name: Start
      ansible.builtin.systemd:
        name: "secure-{{ item }}.service"
        daemon_reload: "{{ units.changed }}"
        enabled: true
        state: started
      loop: [mtls, direct]
`,
        'ping.yml': [
          '- hosts: all',
          '  gather_facts: true',
          '  tasks:',
          '    - ansible.builtin.debug:',
          '        msg: "{{ inventory_hostname }} says {{ greeting | default(\'nothing\') }} as {{ ansible_user_id }} on {{ ansible_distribution_release }}"',
          '    - ansible.builtin.command: id -un',
          '      become: true',
          '      become_user: nobody',
          '      register: whoami',
          '      changed_when: false',
          '      check_mode: false',
          '    - ansible.builtin.debug:',
          '        msg: "became {{ whoami.stdout }}"',
          '',
        ].join('\n'),
      },
      'float-deploy-e2e-',
    );
    env = new LocalEnv(dir);
    await env.up();
  }, 45 * 60_000);

  afterAll(async () => {
    if (env) console.log(`deployment e2e timings:\n  ${env.timings.join('\n  ')}`);
    if (env?.spec) await envDown(env.spec).catch((e) => console.error(`env down failed: ${(e as Error).message}`));
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 5 * 60_000);

  it('float run passes -e, --limit and --check through to ansible-playbook', () => {
    const r = floatRun(['ping.yml', '-e', 'greeting=hello', '--limit', 'fe1,be1', '--check'], 'trivial playbook');
    expect(r.status).toBe(0);
    expect(r.out).toContain('fe1 says hello as root on bookworm');
    expect(r.out).toContain('be1 says hello as root on bookworm');
    expect(r.out).toContain('became nobody');
    expect(r.out).not.toContain('be2 says');
  });

  it('the first run applies the base layer', () => {
    const r = floatRun(['site.yml'], 'first float run site.yml');
    expect(r.status, r.out.slice(-3000)).toBe(0);
    // float run reports what it did to the credentials before handing over to Ansible.
    expect(r.out).toMatch(/certificates: \d+ issued, \d+ unchanged/);
    expect(Object.values(recap(r.out)).every((h) => h.failed === 0 && h.unreachable === 0)).toBe(true);
    // Installs every package on three fresh hosts: 16.5 minutes seen on a loaded 2-core machine.
  }, 30 * 60_000);

  it('the container service runs on exactly its scheduled host', () => {
    expect(on('be1', 'systemctl is-active web-http.service').out).toBe('active');
    expect(on('be1', "podman ps --format '{{.Names}}'").out.split('\n')).toContain('web-http');
    for (const h of ['be2', 'fe1']) {
      expect(on(h, 'systemctl is-active web-http.service').out).not.toBe('active');
      expect(on(h, "podman ps --format '{{.Names}}'").out.split('\n')).not.toContain('web-http');
    }
    // Runs as its service user, with all capabilities dropped.
    expect(on('be1', "ps -eo user:20,args | grep '[h]ttpd -f -p 8080' | cut -d' ' -f1").out).toBe('docker-web');
    expect(on('be1', "grep CapEff /proc/$(pgrep -u docker-web -x httpd)/status").out).toMatch(/CapEff:\s+0+$/);
  });

  it('service discovery: svc, host.svc and svc-master names resolve from the frontend', () => {
    expect(on('fe1', `getent hosts web.${DOMAIN}`).out).toMatch(new RegExp(`^${ip.be1}\\s`));
    expect(on('fe1', `getent hosts be1.web.${DOMAIN}`).out).toMatch(new RegExp(`^${ip.be1}\\s`));
    expect(on('fe1', `getent hosts web-master.${DOMAIN}`).out).toMatch(new RegExp(`^${ip.be1}\\s`));
    expect(on('fe1', `getent ahostsv4 api.${DOMAIN} | awk '{print $1}' | sort -u`).out.split('\n')).toEqual([ip.be1, ip.be2].sort());
  });

  it('firewall: declared ports answer from other hosts, undeclared ones do not', () => {
    expect(httpFrom('fe1', `http://be1.api.${DOMAIN}:9290/hostname`).status).toBe(0);
    expect(httpFrom('be2', `http://be1.api.${DOMAIN}:9290/hostname`).status).toBe(0);
    // Port 9999 listens on be1 (reachable locally) but is not declared in `ports`: dropped,
    // while the same probe from the same host reaches the declared port 9290.
    expect(httpFrom('be1', 'http://127.0.0.1:9999/hostname').status).toBe(0);
    expect(tcpFrom('fe1', ip.be1, 9290)).toBe('open');
    expect(tcpFrom('fe1', ip.be1, 9999)).toBe('timeout');
    // The public endpoint port answers from the frontend only.
    expect(httpFrom('fe1', `http://be1.web.${DOMAIN}:8080/hostname`).status).toBe(0);
    expect(tcpFrom('be2', ip.be1, 9290)).toBe('open');
    expect(tcpFrom('be2', ip.be1, 8080)).toBe('timeout');
  });

  it('egress_policy none: the container cannot reach another host', () => {
    // Positive control: a container on the same host with the default policy (allow-all),
    // the same probe, the same target.
    expect(inContainer('be1', 'api-http', `wget -q -O - http://${ip.be2}:9290/hostname`)).toBe('be2 status=0');
    // The jailed one's packets are dropped: still waiting when the bound runs out (not a crash, 139).
    expect(inContainer('be1', 'jail-main', `wget -q -O - http://${ip.be2}:9290/hostname`)).toBe('status=124');
  });

  it('credentials: owner, group and mode; only the owning service can read its key', () => {
    const stat = (f: string) => on('be1', `stat -c '%U %G %a' ${f}`).out;
    expect(stat('/etc/credentials/x509/web/server/private_key.pem')).toBe('root web-credentials 640');
    expect(stat('/etc/credentials/x509/web/server/cert.pem')).toBe('root web-credentials 644');
    expect(stat('/etc/credentials/x509/web/ca.pem')).toBe('root web-credentials 644');
    expect(stat('/etc/credentials/x509/host/client/private_key.pem')).toBe('root host-credentials 640');
    expect(on('be1', 'runuser -u docker-web -- cat /etc/credentials/x509/web/server/private_key.pem').out).toContain('BEGIN PRIVATE KEY');
    expect(on('be1', 'runuser -u docker-api -- cat /etc/credentials/x509/web/server/private_key.pem').status).not.toBe(0);
    expect(on('be1', 'openssl verify -CAfile /etc/credentials/x509/web/ca.pem /etc/credentials/x509/web/server/cert.pem').out).toContain(': OK');
    expect(on('be2', 'test -e /etc/credentials/x509/web').status).not.toBe(0);
    expect(on('be2', 'getent passwd docker-web').status).not.toBe(0);
  });

  const curl = (...args: string[]) => spawnSync('curl', ['-s', '--max-time', '10', ...args], { encoding: 'utf8' });
  const viaFrontend = (name: string, port = 443) => ['--resolve', `${name}:${port}:${ip.fe1}`];

  it('nginx: the public endpoint over HTTPS (self-signed while testing), HTTP redirected, cache header set', () => {
    const https = curl('-k', '-D', '-', ...viaFrontend('www.example.test'), 'https://www.example.test/hostname');
    expect(https.stdout.trim(), https.stderr).toMatch(/\r\n\r\nbe1$/);
    expect(https.stdout).toMatch(/^x-cache-status: /im);
    const http = curl('-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', ...viaFrontend('www.example.test', 80), 'http://www.example.test/hostname');
    expect(http.stdout).toBe('301 https://www.example.test/hostname');
    // An unknown name gets no certificate at all: the handshake fails (curl's status 35).
    expect(curl('-k', ...viaFrontend('nope.example.test'), 'https://nope.example.test/').status).toBe(35);
  });

  it('nginx: an endpoint with mode http is served over plain HTTP without redirect', () => {
    const r = curl('-w', ' %{http_code}', ...viaFrontend('api.example.test', 80), 'http://api.example.test/hostname');
    expect(r.stdout.trim()).toMatch(/^be[12]\n? 200$/);
  });

  it('nginx: a scheme https backend is reached over mutual TLS with the internal PKI', () => {
    const r = curl('-k', ...viaFrontend('secure.example.test'), 'https://secure.example.test/hostname');
    expect(r.stdout.trim(), r.stderr).toMatch(/^be[12]$/);
    // The backend refuses a client without a certificate from our CA...
    const py = (cert: string) =>
      on('fe1', `python3 -c 'import ssl, urllib.request as u; c = ssl.create_default_context(cafile="/etc/credentials/x509/frontend/ca.pem"); ${cert} print(u.urlopen("https://be1.secure.${DOMAIN}:7443/hostname", context=c, timeout=5).read().decode().strip())'`);
    expect(py('').status).not.toBe(0);
    // ...and accepts the frontend's client certificate.
    expect(py('c.load_cert_chain("/etc/credentials/x509/frontend/client/cert.pem", "/etc/credentials/x509/frontend/client/private_key.pem");').out).toBe('be1');
  });

  it('nginx: TLS passthrough by SNI reaches a backend that terminates TLS itself', () => {
    const r = curl('-k', ...viaFrontend('direct.example.test'), 'https://direct.example.test/hostname');
    expect(r.stdout.trim(), r.stderr).toMatch(/^be[12]$/);
    // The certificate the client sees is the backend's, issued by float's internal CA.
    const issuer = execFileSync('sh', ['-c', `openssl s_client -connect ${ip.fe1}:443 -servername direct.example.test </dev/null 2>/dev/null | openssl x509 -noout -issuer`], { encoding: 'utf8' });
    const ca = execFileSync('openssl', ['x509', '-noout', '-subject', '-in', join(dir, 'credentials/x509/ca.pem')], { encoding: 'utf8' });
    expect(issuer.replace(/^issuer=/, '').trim()).toBe(ca.replace(/^subject=/, '').trim());
  });

  it('haproxy: a public TCP endpoint answers on its public port', () => {
    const r = curl(`http://${ip.fe1}:2090/hostname`);
    expect(r.stdout.trim(), r.stderr).toMatch(/^be[12]$/);
  });

  it('public DNS: the frontend answers every record float dns lists, and the NS set', () => {
    const records = JSON.parse(float(['dns', '--json']).out) as Array<{ fqdn: string; type: string; value: string }>;
    const dig = (name: string, type: string) =>
      execFileSync('dig', [`@${ip.fe1}`, '+short', '+norec', '+time=3', '+tries=2', name, type], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).sort();
    expect(records.length).toBeGreaterThan(0);
    const byQuery = new Map<string, string[]>();
    for (const r of records.filter((r) => r.type !== 'SOA')) byQuery.set(`${r.fqdn} ${r.type}`, [...(byQuery.get(`${r.fqdn} ${r.type}`) ?? []), r.value]);
    for (const [q, values] of byQuery) {
      const [name, type] = q.split(' ');
      expect(dig(name, type), q).toEqual(values.sort());
    }
    expect(dig('example.test', 'NS')).toEqual(['ns1.example.test.']);
    expect(dig('www.example.test', 'A')).toEqual([ip.fe1]);
    expect(dig('direct.example.test', 'A')).toEqual([ip.fe1]);
    // Authoritative only: no recursion for names outside its zones.
    expect(dig('debian.org', 'A')).toEqual([]);
  });

  it('SSH: every host key presents a certificate from the SSH CA; strict host checking with @cert-authority works', () => {
    const known = join(dir, 'known_hosts');
    writeFileSync(known, `@cert-authority *.${DOMAIN} ${readFileSync(join(dir, 'credentials/ssh/key.pub'), 'utf8')}`);
    const ssh = (alias: string, algorithm: string) =>
      spawnSync(
        'ssh',
        ['-i', join(dir, '.float-env/ssh/id_ed25519'), '-o', `UserKnownHostsFile=${known}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes',
          '-o', `HostKeyAlias=${alias}`, '-o', `HostKeyAlgorithms=${algorithm}`, `root@${ip.be2}`, 'hostname'],
        { encoding: 'utf8', timeout: 30_000 },
      );
    // The test hosts' sshd loads an ed25519 and an ECDSA key: both are certified.
    for (const algorithm of ['ssh-ed25519-cert-v01@openssh.com', 'ecdsa-sha2-nistp256-cert-v01@openssh.com']) {
      const r = ssh(`be2.${DOMAIN}`, algorithm);
      expect(r.stdout.trim(), `${algorithm}: ${r.stderr}`).toBe('be2');
    }
    // The same CA does not vouch for another name.
    expect(ssh(`be1.${DOMAIN}`, 'ssh-ed25519-cert-v01@openssh.com').status).not.toBe(0);
  });

  it('a second run changes nothing, and --check passes', () => {
    const again = floatRun(['site.yml'], 'second float run site.yml');
    expect(again.status).toBe(0);
    const r = recap(again.out);
    expect(Object.keys(r).sort()).toEqual(['be1', 'be2', 'fe1']);
    for (const [h, v] of Object.entries(r)) expect(v.changed, `${h} changed: ${changedTasks(again.out).join('; ')}`).toBe(0);
    expect(floatRun(['site.yml', '--check'], 'float run site.yml --check').status).toBe(0);
  });

  it('nginx fails over: with one backend stopped every request still succeeds', () => {
    const get = () => curl('-k', ...viaFrontend('api.example.test'), 'https://api.example.test/hostname').stdout.trim();
    const before = new Set(Array.from({ length: 8 }, get));
    expect([...before].sort()).toEqual(['be1', 'be2']);
    expect(on('be1', 'systemctl stop api-http.service').status).toBe(0);
    try {
      const during = Array.from({ length: 8 }, get);
      expect(during).toEqual(Array(8).fill('be2'));
    } finally {
      on('be1', 'systemctl start api-http.service');
    }
  });

  it('moving the service to the other backend moves the container', () => {
    writeFileSync(join(dir, 'services.yml'), services('zone-b'));
    git('commit', '-qam', 'move web to zone-b');
    const r = floatRun(['site.yml'], 'run after moving a service');
    expect(r.status, r.out.slice(-3000)).toBe(0);
    expect(on('be2', 'systemctl is-active web-http.service').out).toBe('active');
    expect(on('be1', 'test -e /etc/systemd/system/web-http.service').status).not.toBe(0);
    expect(on('be1', "podman ps -a --format '{{.Names}}'").out.split('\n')).not.toContain('web-http');
  });

  it('refuses to apply an older commit unless -e rollback=true', () => {
    git('checkout', '-q', 'HEAD~1');
    const refused = floatRun(['site.yml'], 'refused rollback');
    expect(refused.status).not.toBe(0);
    expect(refused.out).toContain('refusing to apply configuration commit');
    expect(refused.out).toContain('rollback=true');
    const forced = floatRun(['site.yml', '-e', 'rollback=true'], 'forced rollback');
    expect(forced.status, forced.out.slice(-3000)).toBe(0);
    expect(on('be1', 'systemctl is-active web-http.service').out).toBe('active');
  });

  // Issue 14, "configuration that would leave a host open", and the frontend's hardening.
  describe('hardening: nothing broken is installed, the firewall survives a broken drop-in, HSTS', () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const poll = async (what: () => string, want: string, seconds: number) => {
      let got = what();
      for (let i = 0; i < seconds && got !== want; i++) {
        await sleep(1000);
        got = what();
      }
      return got;
    };
    const setGlobals = (extra: string, message: string) => {
      writeFileSync(
        join(dir, 'group_vars/all/hardening.yml'),
        extra ? `${extra}\n` : '# nothing\n',
      );
      git('add', '-A');
      git('commit', '-qm', message);
    };

    it('HTTPS endpoints send Strict-Transport-Security; the plain-HTTP endpoint does not', () => {
      const https = curl('-k', '-D', '-', '-o', '/dev/null', ...viaFrontend('www.example.test'), 'https://www.example.test/hostname');
      expect(https.stdout).toMatch(/^strict-transport-security: max-age=31536000\r$/im);
      const http = curl('-D', '-', '-o', '/dev/null', ...viaFrontend('api.example.test', 80), 'http://api.example.test/hostname');
      expect(http.stdout).toMatch(/^HTTP\/1.1 200/);
      expect(http.stdout).not.toMatch(/strict-transport-security/i);
    });

    it('a broken drop-in fails the run, naming it; after a reboot the host still drops undeclared ports', async () => {
      // 9999 listens on be2 (api's private container) but is not declared: the broken
      // drop-in would open it, if nft could read it.
      expect(await poll(() => String(httpFrom('be2', 'http://127.0.0.1:9999/hostname').status), '0', 30)).toBe('0');
      expect(on('be2', `printf '# opens the private port\\nadd rule inet float input tcp dport 9999 acept\\n' > /etc/nftables.d/zz-local.nft`).status).toBe(0);
      try {
        const r = floatRun(['site.yml', '--limit', 'be2'], 'run with a broken drop-in');
        expect(r.status).not.toBe(0);
        expect(r.out).toContain('/etc/nftables.d/zz-local.nft:2:');
        expect(recap(r.out).be2?.failed).toBe(1);

        // Reboot be2: its init asks systemd-nspawn to exit, and the env API boots it again from the same disk.
        on('be2', 'systemctl reboot');
        const host = () => envStatus(env!.spec, { ssh: false }).then((s) => s.hosts.find((h) => h.name === 'be2')!.running);
        for (let i = 0; i < 120 && (await host()); i++) await sleep(1000);
        expect(await host()).toBe(false);
        await envUp(env!.spec);
        expect(on('be2', 'cat /proc/1/comm').out).toBe('systemd');
        // The unit reports the broken drop-in, and float's rules are loaded nonetheless.
        expect(await poll(() => on('be2', 'systemctl is-active nftables.service').out, 'failed', 60)).toBe('failed');
        expect(on('be2', 'journalctl -b -u nftables.service --no-pager').out).toContain('skipped the broken drop-in /etc/nftables.d/zz-local.nft');
        expect(on('be2', 'nft list chain inet float input').out).toContain('policy drop');
        // Positive controls: the declared port answers from fe1, the private one locally...
        expect(await poll(() => tcpFrom('fe1', ip.be2, 9290), 'open', 120)).toBe('open');
        expect(await poll(() => String(httpFrom('be2', 'http://127.0.0.1:9999/hostname').status), '0', 60)).toBe('0');
        // ...and the undeclared one is dropped.
        expect(tcpFrom('fe1', ip.be2, 9999)).toBe('timeout');
      } finally {
        on('be2', 'rm -f /etc/nftables.d/zz-local.nft && systemctl restart nftables.service');
      }
      expect(on('be2', 'systemctl is-active nftables.service').out).toBe('active');
    }, 10 * 60_000);

    it('ssh_allowed_from restricts port 22 to its networks', () => {
      const gateway = env!.spec.gateway;
      setGlobals(`ssh_allowed_from: [${gateway}/32]`, 'ssh only from the test machine');
      try {
        const r = floatRun(['site.yml', '--limit', 'be2'], 'run with ssh_allowed_from');
        expect(r.status, r.out.slice(-3000)).toBe(0);
        // Positive controls: the test machine still logs in, fe1 still reaches a declared port.
        expect(on('be2', 'hostname').out).toBe('be2');
        expect(tcpFrom('fe1', ip.be2, 9290)).toBe('open');
        expect(tcpFrom('fe1', ip.be2, 22)).toBe('timeout');
      } finally {
        setGlobals('', 'ssh from everywhere again');
      }
      const r = floatRun(['site.yml', '--limit', 'be2'], 'run without ssh_allowed_from');
      expect(r.status, r.out.slice(-3000)).toBe(0);
      expect(tcpFrom('fe1', ip.be2, 22)).toBe('open');
    }, 10 * 60_000);
  });
});

// SSH access and container hardening on one local host: root's authorized_keys
// follows `admins` exactly (removal revokes), sshd takes keys only, the CA is
// trusted for the fleet's names only, host certificates have distinct serials,
// and container values arrive intact without being printed.
describe.skipIf(skipReason !== undefined)('float run on local hosts: SSH access and containers', { timeout: 15 * 60_000 }, () => {
  let env: LocalEnv | undefined;
  let ip = '';
  let dir = '';
  const HOSTILE = `50% of $HOME and \${X} "double" 'single' back\\slash  two  spaces`;
  const secret = (n: number) => `not-for-logs-${n}-${process.pid}`;
  const adminKey = () => readFileSync(join(dir, 'alice.pub'), 'utf8').trim();
  const globals = (admins: boolean) => `domain: ${DOMAIN}
domain_public: [example.test]
testing: true
${LOCAL_PODMAN_VARS}${admins ? `admins:\n  - name: alice\n    ssh_keys: ["${adminKey()}"]\n` : ''}`;
  const servicesYml = (n: number) => `hostile:
  scheduling_group: backend
  containers:
    - name: main
      image: localhost/busybox:latest
      args: /bin/sh -c "exec sleep 1000000" "50% done" $HOME
      volumes:
        - tmpfs: /scratch
      env:
        HOSTILE: ${JSON.stringify(HOSTILE)}
        API_TOKEN: ${secret(n)}
`;
  /** A variable of the container's environment (busybox env: the test image has no printenv). */
  const containerEnv = (name: string) =>
    env!.on('h1', 'podman exec hostile-main /bin/busybox env').out.split('\n').find((l) => l.startsWith(`${name}=`))?.slice(name.length + 1);
  const commit = (msg: string) => env!.git('-c', 'user.name=e2e', '-c', 'user.email=e2e@example.test', 'commit', '-qam', msg);
  /** ssh from this machine as root with `key`, extra options first; returns status and stderr. */
  const sshAs = (key: string, ...opts: string[]) =>
    spawnSync('ssh', ['-i', key, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=10', ...opts, `root@${ip}`, 'true'], {
      encoding: 'utf8',
      timeout: 30_000,
    });

  beforeAll(async () => {
    const network = pickFreeNetwork();
    ip = `${network.split('.').slice(0, 3).join('.')}.10`;
    dir = writeTree(
      {
        'config.yml': `plugin: float\nvault_password_file: .vault_password\ntest_env:\n  network: ${network}\n`,
        '.vault_password': 'e2e-ssh-vault-password\n',
        '.gitignore': '.float/\n.float-env/\n.vault_password\ncredentials/\n',
        'hosts.yml': `hosts:\n  h1:\n    ips: [${ip}]\n    ansible_host: ${ip}\n    groups: [backend]\n${LOCAL_HOSTS_GROUP_VARS}`,
        'services.yml': servicesYml(1),
        'passwords.yml': '[]\n',
        'site.yml': `- import_playbook: ${REPO_ROOT}/playbooks/all.yml\n`,
        'group_vars/all/config.yml': '# written below, with the admin key\n',
      },
      'float-ssh-e2e-',
    );
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice@example.test', '-f', join(dir, 'alice')]);
    writeFileSync(join(dir, 'group_vars/all/config.yml'), globals(true));
    env = new LocalEnv(dir);
    await env.up();
  }, 45 * 60_000);

  afterAll(async () => {
    if (env) console.log(`SSH e2e timings:\n  ${env.timings.join('\n  ')}`);
    if (env?.spec) await envDown(env.spec).catch((e) => console.error(`env down failed: ${(e as Error).message}`));
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 5 * 60_000);

  it('an admin key is authorized, and removing the admin revokes it; the environment key keeps working', () => {
    const r = env!.floatRun(['site.yml'], 'first float run (with an admin)');
    expect(r.status, r.out.slice(-3000)).toBe(0);
    expect(sshAs(join(dir, 'alice')).status).toBe(0);
    writeFileSync(join(dir, 'group_vars/all/config.yml'), globals(false));
    commit('remove alice');
    const again = env!.floatRun(['site.yml'], 'float run without the admin');
    expect(again.status, again.out.slice(-3000)).toBe(0);
    const denied = sshAs(join(dir, 'alice'));
    expect(denied.status).not.toBe(0);
    expect(denied.stderr).toContain('Permission denied');
    expect(env!.on('h1', 'grep -c alice@example.test /root/.ssh/authorized_keys').out).toBe('0');
    // Positive control: the environment's own key (ssh_extra_root_keys) still logs in.
    expect(sshAs(join(dir, '.float-env/ssh/id_ed25519')).status).toBe(0);
  });

  it('sshd accepts keys only: no password, no keyboard-interactive, root by key', () => {
    const t = env!.on('h1', 'sshd -T').out;
    expect(t).toMatch(/^passwordauthentication no$/m);
    expect(t).toMatch(/^kbdinteractiveauthentication no$/m);
    expect(t).toMatch(/^permitrootlogin without-password$/m);
    // What the server offers a client that has no key: public keys only.
    const r = sshAs('/dev/null', '-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password,keyboard-interactive');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Permission denied (publickey)');
  });

  it('hosts trust the SSH CA for the fleet\'s names only; each host certificate has its own serial', () => {
    const pub = readFileSync(join(dir, 'credentials/ssh/key.pub'), 'utf8').trim();
    expect(env!.on('h1', 'grep -v "^#" /etc/ssh/ssh_known_hosts').out).toBe(`@cert-authority *.${DOMAIN},h1 ${pub}`);
    // The line the host has works for a client with strict checking.
    const known = join(dir, 'known_hosts');
    writeFileSync(known, env!.on('h1', 'cat /etc/ssh/ssh_known_hosts').out + '\n');
    const strict = (alias: string) =>
      spawnSync('ssh', ['-i', join(dir, '.float-env/ssh/id_ed25519'), '-o', `UserKnownHostsFile=${known}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes',
        '-o', `HostKeyAlias=${alias}`, '-o', 'HostKeyAlgorithms=ssh-ed25519-cert-v01@openssh.com', `root@${ip}`, 'hostname'], { encoding: 'utf8', timeout: 30_000 });
    expect(strict(`h1.${DOMAIN}`).stdout.trim()).toBe('h1');
    const serials = env!.on('h1', "for c in /etc/ssh/ssh_host_*_key-cert.pub; do ssh-keygen -L -f $c | sed -n 's/^ *Serial: //p'; done").out.split('\n');
    expect(serials.length).toBeGreaterThanOrEqual(2);
    expect(new Set(serials).size).toBe(serials.length);
    expect(serials).not.toContain('0');
  });

  it('container values arrive intact: env with %, $, quotes and spaces; args; a tmpfs volume (a path with a space is refused at load, F1020)', () => {
    expect(containerEnv('HOSTILE')).toBe(HOSTILE);
    const cmd = env!.on('h1', "podman inspect --format '{{json .Config.Cmd}}' hostile-main").out;
    expect(JSON.parse(cmd)).toEqual(['/bin/sh', '-c', 'exec sleep 1000000', '50% done', '$HOME']);
    expect(env!.on('h1', "podman exec hostile-main sh -c 'test -d /scratch && echo yes'").out).toBe('yes');
  });

  it('a changed secret in a container environment is applied, but never printed (even with --diff -v); the output names the container', () => {
    writeFileSync(join(dir, 'services.yml'), servicesYml(2));
    commit('rotate the token');
    const r = env!.floatRun(['site.yml', '--diff', '-v'], 'float run --diff -v after changing a secret');
    expect(r.status, r.out.slice(-3000)).toBe(0);
    expect(r.out).not.toContain(secret(1));
    expect(r.out).not.toContain(secret(2));
    expect(r.out).toMatch(/changed: \[h1\] => \(item=hostile-main\)/);
    expect(containerEnv('API_TOKEN')).toBe(secret(2));
  });

  it('a second run changes nothing', () => {
    const again = env!.floatRun(['site.yml'], 'second float run');
    expect(again.status, again.out.slice(-3000)).toBe(0);
    for (const [h, v] of Object.entries(recap(again.out))) expect(v.changed, `${h}: ${changedTasks(again.out).join('; ')}`).toBe(0);
  });
});
