// Host lifecycle on the shared hosts: APT sources from float_debian_dist, local mail
// through the mail relay (msmtp) to an SMTP sink that is itself a float service,
// a service moving from be1 to be2 (nothing of it stays on be1 but its data, which
// float run reports), and aux1 turned down (nothing of float's services stays on it).
// Its changes run last: they move this suite's own services, and turn aux1 down
// with `aux` added to be2's groups so that every service of group aux still has a host.
import { expect, it } from 'vitest';
import { changedTasks, recap } from '../../helpers/local-env.js';
import { CLUSTER_HOSTS, type ClusterCtx, type ClusterSuite } from './suite.js';

const RELAY_USER = 'relay-user';
const ROOT_USER = 'ops@example.test';

/** A tiny SMTP relay for the test: AUTH PLAIN against its configured user and password, one JSON file per message. */
const SINK = String.raw`import base64, hmac, json, os, socketserver, sys, time
port, conf, outdir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(conf) as f:
    user, password = f.read().split('\n')[:2]

class Handler(socketserver.StreamRequestHandler):
    def say(self, s):
        self.wfile.write((s + '\r\n').encode())
        self.wfile.flush()

    def handle(self):
        self.say('220 lcsink ESMTP')
        authed, sender, rcpts = False, None, []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            cmd = raw.decode('utf-8', 'replace').rstrip('\r\n')
            up = cmd.upper()
            if up.startswith('EHLO'):
                self.say('250-lcsink')
                self.say('250-AUTH PLAIN')
                self.say('250 8BITMIME')
            elif up.startswith('HELO'):
                self.say('250 lcsink')
            elif up.startswith('AUTH PLAIN'):
                arg = cmd[10:].strip()
                if not arg:
                    self.say('334 ')
                    arg = self.rfile.readline().decode().strip()
                parts = base64.b64decode(arg).decode('utf-8', 'replace').split('\0')
                authed = len(parts) == 3 and parts[1] == user and hmac.compare_digest(parts[2], password)
                self.say('235 ok' if authed else '535 bad credentials')
            elif up.startswith('MAIL FROM:'):
                if not authed:
                    self.say('530 authentication required')
                    continue
                sender, rcpts = cmd[10:].strip(), []
                self.say('250 ok')
            elif up.startswith('RCPT TO:'):
                rcpts.append(cmd[8:].strip())
                self.say('250 ok')
            elif up == 'DATA':
                self.say('354 go on')
                lines = []
                while True:
                    line = self.rfile.readline()
                    if not line or line in (b'.\r\n', b'.\n'):
                        break
                    lines.append(line.decode('utf-8', 'replace'))
                name = os.path.join(outdir, '%d.json' % time.time_ns())
                with open(name + '.tmp', 'w') as f:
                    json.dump({'from': sender, 'to': rcpts, 'data': ''.join(lines)}, f)
                os.rename(name + '.tmp', name)
                self.say('250 stored')
            elif up == 'QUIT':
                self.say('221 bye')
                return
            elif up == 'RSET' or up.startswith('NOOP'):
                sender, rcpts = None, []
                self.say('250 ok')
            else:
                self.say('502 not implemented')

class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

Server(('', port), Handler).serve_forever()
`;

/** Installs the suite's two test services where float scheduled them. */
const PLAYBOOK = `---
- name: Lifecycle test services
  hosts: all
  tasks:
    - name: Directory of the test units
      ansible.builtin.file:
        path: /usr/local/lib/systemd/system
        state: directory
        mode: "0755"
    - name: Data directory of lcmove
      ansible.builtin.file:
        path: /var/lib/lcmove
        state: directory
        owner: docker-lcmove
        # As float-base-backup creates the dataset's directory (default mode 0750):
        # two different modes would make every run change it.
        mode: "0750"
      when: float_enable_lcmove
    - name: Data of lcmove
      ansible.builtin.copy:
        dest: /var/lib/lcmove/index.html
        content: "lcmove on {{ inventory_hostname }}\\n"
        owner: docker-lcmove
        mode: "0644"
      when: float_enable_lcmove
    - name: Unit of lcmove
      ansible.builtin.copy:
        dest: /usr/local/lib/systemd/system/lcmove.service
        content: |
          [Service]
          User=docker-lcmove
          ExecStart=/usr/bin/python3 -m http.server 5611 --directory /var/lib/lcmove
        mode: "0644"
      when: float_enable_lcmove
    - name: Start lcmove
      ansible.builtin.systemd:
        name: lcmove.service
        state: started
        enabled: true
        daemon_reload: true
      when: float_enable_lcmove
    - name: Mail directory of the sink
      ansible.builtin.file:
        path: /var/lib/lcsink
        state: directory
        mode: "0755"
      when: float_enable_lcsink
    - name: The sink
      ansible.builtin.copy:
        dest: /usr/local/lib/lcsink.py
        src: lcsink.py
        mode: "0644"
      when: float_enable_lcsink
    - name: The sink's credentials
      ansible.builtin.copy:
        dest: /etc/lcsink.conf
        content: "{{ mail_relay.user }}\\n{{ lifecycle_smtp_password }}\\n"
        mode: "0600"
      no_log: true
      when: float_enable_lcsink
    - name: Unit of the sink
      ansible.builtin.copy:
        dest: /usr/local/lib/systemd/system/lcsink.service
        content: |
          [Service]
          ExecStart=/usr/bin/python3 /usr/local/lib/lcsink.py 2525 /etc/lcsink.conf /var/lib/lcsink
        mode: "0644"
      when: float_enable_lcsink
    - name: Start the sink
      ansible.builtin.systemd:
        name: lcsink.service
        state: started
        enabled: true
        daemon_reload: true
      when: float_enable_lcsink
`;

/** Messages the sink on HOST has stored, oldest first. */
function mails(ctx: ClusterCtx, host: string): Array<{ from: string; to: string[]; data: string }> {
  const r = ctx.on(host, 'cd /var/lib/lcsink && for f in $(ls *.json 2>/dev/null | sort); do cat "$f"; echo; done');
  return r.out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

/** Waits (up to `seconds`) for a message on the sink whose text contains `marker`. */
async function waitForMail(ctx: ClusterCtx, host: string, marker: string, seconds: number) {
  for (let i = 0; i < seconds; i++) {
    const m = mails(ctx, host).find((x) => x.data.includes(marker));
    if (m) return m;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return undefined;
}

function allUnchanged(out: string) {
  const counts = recap(out);
  const changed = CLUSTER_HOSTS.filter((h) => counts[h]?.changed !== 0);
  expect(changed, `changed tasks:\n${changedTasks(out).join('\n')}`).toEqual([]);
}

export const lifecycle: ClusterSuite = {
  name: 'lifecycle',
  services: () => `
lcmove:
  scheduling_group: lc_a
  num_instances: 1
  service_credentials:
    - name: lcmove
  ports: [5611]
  systemd_services: [lcmove.service]
  datasets:
    - name: data
      path: /var/lib/lcmove
lcsink:
  scheduling_group: aux
  num_instances: 1
  ports: [2525]
  systemd_services: [lcsink.service]
`,
  globals: (l) => `mail_relay:
  server: lcsink.${l.domain}
  port: 2525
  user: ${RELAY_USER}
  password: "{{ lifecycle_smtp_password }}"
  root_user: ${ROOT_USER}
  tls: false
`,
  hostGroups: { be1: ['lc_a'], be2: ['lc_b'] },
  passwords: ['- {name: lifecycle_smtp_password, length: 24}'],
  files: () => ({ 'lifecycle.yml': PLAYBOOK, 'lcsink.py': SINK }),
  playbooks: ['lifecycle.yml'],

  checks(ctx) {
    it('APT sources follow float_debian_dist (bookworm), with -updates and -security, and apt reads them', () => {
      for (const h of CLUSTER_HOSTS) {
        const src = ctx.on(h, 'cat /etc/apt/sources.list.d/debian.sources; echo ===; grep -c "^deb" /etc/apt/sources.list || true');
        expect(src.out, h).toContain('Suites: bookworm bookworm-updates\n');
        expect(src.out, h).toContain('Suites: bookworm-security\n');
        expect(src.out, h).toContain('URIs: http://deb.debian.org/debian-security');
        expect(src.out.split('===')[1].trim(), `${h}: sources.list keeps no entries`).toBe('0');
      }
      // apt itself reads the three suites (from the package lists already on the host: no network here).
      const policy = ctx.on('be1', 'apt-cache policy');
      expect(policy.status).toBe(0);
      for (const suite of ['n=bookworm,', 'n=bookworm-updates,', 'n=bookworm-security,']) expect(policy.out).toContain(suite);
      expect(policy.out).not.toContain('n=trixie');
    });

    it('apt-upgrade goes host by host and stops at the first failure (in --check: no network here)', () => {
      // Positive control: every host, one at a time (the task runs once per host).
      const ok = ctx.float(['run', 'apt-upgrade', '--check'], 'lifecycle: apt-upgrade --check');
      expect(ok.status, ok.out.slice(-3000)).toBe(0);
      expect(Object.keys(recap(ok.out)).sort()).toEqual([...CLUSTER_HOSTS].sort());
      expect(ok.out.match(/^TASK \[Upgrade all packages\]/gm)).toHaveLength(CLUSTER_HOSTS.length);
      // A broken APT configuration on every host: the first host fails, no other host is touched.
      const broken = '/etc/apt/apt.conf.d/99lifecycle-broken';
      for (const h of CLUSTER_HOSTS) ctx.on(h, `echo 'this is { not apt syntax' > ${broken}`);
      try {
        const r = ctx.float(['run', 'apt-upgrade', '--check'], 'lifecycle: apt-upgrade --check, broken');
        expect(r.status).not.toBe(0);
        expect(r.out.match(/^TASK \[Upgrade all packages\]/gm)).toHaveLength(1);
        const counts = Object.values(recap(r.out));
        expect(counts.filter((c) => c.failed > 0)).toHaveLength(1);
      } finally {
        for (const h of CLUSTER_HOSTS) ctx.on(h, `rm -f ${broken}`);
      }
    });

    it('bootstrap prepares a host (here one already prepared: python3 present, keys and certificate in place)', () => {
      const r = ctx.float(['run', 'bootstrap', '--limit', 'be1'], 'lifecycle: bootstrap be1');
      expect(r.status, r.out.slice(-3000)).toBe(0);
      expect(Object.keys(recap(r.out))).toEqual(['be1']);
      expect(r.out).toContain('TASK [Install python3 for Ansible]');
      expect(ctx.on('be1', 'hostname').out).toBe('be1');
      expect(ctx.on('be1', 'test -s /etc/ssh/ssh_host_ed25519_key-cert.pub').status).toBe(0);
    });

    it('msmtp is the system sendmail; its password file is readable by root and group msmtp only', () => {
      for (const h of ['be1', 'aux1']) {
        expect(ctx.on(h, 'stat -c "%a %U %G" /etc/msmtprc').out, h).toBe('640 root msmtp');
        expect(ctx.on(h, 'stat -c "%a %U %G" /usr/bin/msmtp').out, h).toBe('2755 root msmtp');
        expect(ctx.on(h, 'readlink -f /usr/sbin/sendmail').out, h).toBe('/usr/bin/msmtp');
      }
      // The password is there, and a user outside the group cannot read it.
      expect(ctx.on('be1', 'grep -c "^password " /etc/msmtprc').out).toBe('1');
      expect(ctx.on('be1', 'setpriv --reuid=nobody --regid=nogroup --clear-groups cat /etc/msmtprc').status).not.toBe(0);
      // The positive control: the same probe with group msmtp reads it.
      expect(ctx.on('be1', 'setpriv --reuid=nobody --regid=msmtp --clear-groups cat /etc/msmtprc').status).toBe(0);
    });

    it('mail(1) from be1 reaches the SMTP sink on aux1 through the relay, addressed to root_user', async () => {
      const marker = `lifecycle-mail-${Date.now()}`;
      const r = ctx.on('be1', `echo ${marker} | mail -s "${marker}" root`);
      expect(r.status, r.out).toBe(0);
      const m = await waitForMail(ctx, 'aux1', marker, 30);
      expect(m, `no mail with ${marker} on aux1; sink has ${JSON.stringify(mails(ctx, 'aux1')).slice(0, 500)}`).toBeDefined();
      expect(m!.to.join(' ')).toContain(ROOT_USER);
      expect(m!.from).toContain('be1.infra.test');
    });

    it('the relay refuses a wrong password (and the right one passes, above)', () => {
      const before = mails(ctx, 'aux1').length;
      // The configuration float wrote, but for its password (a command-line --passwordeval would not override it).
      const r = ctx.on(
        'be1',
        `umask 077; sed 's/^password .*/password "not-the-password"/' /etc/msmtprc > /root/wrong.rc; printf 'Subject: wrong\\n\\nx\\n' | msmtp -C /root/wrong.rc ${ROOT_USER}; s=$?; rm -f /root/wrong.rc; exit $s`,
      );
      expect(r.status, r.out).not.toBe(0);
      expect(r.out).toMatch(/535|authentication failed/i);
      expect(mails(ctx, 'aux1').length).toBe(before);
    });

    it("a cron job's output (as nobody) reaches the sink on aux1 by mail", async () => {
      const marker = `lifecycle-cron-${Date.now()}`;
      ctx.on('be2', `printf '* * * * * nobody echo ${marker}\\n' > /etc/cron.d/lifecycle-mail && systemctl start cron`);
      try {
        const m = await waitForMail(ctx, 'aux1', marker, 130);
        expect(m, `no cron mail with ${marker} on aux1`).toBeDefined();
        expect(m!.to.join(' ')).toContain(ROOT_USER);
      } finally {
        ctx.on('be2', 'rm -f /etc/cron.d/lifecycle-mail; systemctl stop cron');
      }
    }, 180_000);

    it('lcmove runs on be1 with its user, credentials and firewall allowance; be2 has none of them', () => {
      // By its service name: be1 and be2 are overlay members, which reach each other's service ports over the overlay only.
      expect(ctx.on('be2', `curl -sS --max-time 5 http://be1.lcmove.${ctx.domain}:5611/`).out).toContain('lcmove on be1');
      expect(ctx.on('be1', 'getent passwd docker-lcmove').status).toBe(0);
      expect(ctx.on('be1', 'test -d /etc/credentials/x509/lcmove').status).toBe(0);
      expect(ctx.on('be1', 'nft list chain inet float input').out).toContain('dport 5611');
      expect(ctx.on('be1', 'cat /etc/float/services/lcmove.json').out).toContain('"/var/lib/lcmove"');
      expect(ctx.on('be2', 'getent passwd docker-lcmove').status).not.toBe(0);
      expect(ctx.on('be2', 'test -e /etc/credentials/x509/lcmove').status).not.toBe(0);
      expect(ctx.on('be2', 'nft list chain inet float input').out).not.toContain('dport 5611');
    });
  },

  changes(ctx) {
    let moved = '';
    it('lcmove moved from be1 to be2 leaves no user, credentials, firewall allowance or unit on be1, and its data is reported', () => {
      // The address lcmove's name had on be1 (its overlay address when be1 and be2 are overlay members, which
      // reach each other's service ports over the overlay only), probed again once lcmove has left.
      const be1Addr = ctx.on('be2', `getent hosts be1.lcmove.${ctx.domain}`).out.split(/\s+/)[0];
      expect(be1Addr, 'be1.lcmove resolves before the move').toMatch(/^[0-9a-f.:]+$/);
      ctx.edit('services.yml', (t) => t.replace(/(lcmove:\n  scheduling_group: )lc_a/, '$1lc_b'), 'lcmove moves to be2');
      moved = ctx.runOk([], 'lifecycle: move lcmove').out;
      expect(moved).toMatch(/left behind on be1: service lcmove: \/var\/lib\/lcmove/);
      // be1: gone, but the data.
      expect(ctx.on('be1', 'getent passwd docker-lcmove; getent group docker-lcmove lcmove-credentials').out).toBe('');
      expect(ctx.on('be1', 'test -e /etc/credentials/x509/lcmove').status).not.toBe(0);
      expect(ctx.on('be1', 'nft list chain inet float input').out).not.toContain('dport 5611');
      expect(ctx.on('be1', 'systemctl is-active lcmove.service').out).not.toBe('active');
      expect(ctx.on('be1', 'test -e /etc/float/services/lcmove.json').status).not.toBe(0);
      expect(ctx.on('be1', 'cat /var/lib/lcmove/index.html').out).toBe('lcmove on be1');
      expect(ctx.on('be2', `curl -sS --max-time 5 http://${be1Addr}:5611/`).status).not.toBe(0);
      // be2: all of it (the positive control), reached the same way: at the address its name has.
      expect(ctx.on('be2', 'getent passwd docker-lcmove').status).toBe(0);
      expect(ctx.on('be2', 'test -d /etc/credentials/x509/lcmove').status).toBe(0);
      expect(ctx.on('be2', 'nft list chain inet float input').out).toContain('dport 5611');
      expect(ctx.on('be2', 'systemctl is-active lcmove.service').out).toBe('active');
      const be2Addr = ctx.on('be1', `getent hosts be2.lcmove.${ctx.domain}`).out.split(/\s+/)[0];
      expect(ctx.on('be1', `curl -sS --max-time 5 http://${be2Addr}:5611/`).out).toContain('lcmove on be2');
    });

    it('aux1 turned down: no service of float stays on it, the mail relay follows its sink to be2', async () => {
      expect(ctx.on('aux1', 'test -e /etc/float/services/lcsink.json && getent passwd docker-lcsink').status, 'before').toBe(0);
      ctx.edit(
        'hosts.yml',
        (t) => t.replace(/(\n  aux1:\n)/, '$1    turndown: true\n').replace(/(\n  be2:\n(?:    .*\n)*?    groups: \[)/, '$1aux, '),
        'aux1 is turned down',
      );
      const check = ctx.float(['check']);
      expect(check.status, check.out).toBe(0);
      const r = ctx.runOk([], 'lifecycle: turndown aux1');
      expect(recap(r.out).aux1).toMatchObject({ failed: 0, unreachable: 0 });
      expect(ctx.on('aux1', 'ls /etc/float/services').out).toBe('');
      expect(ctx.on('aux1', "getent passwd | grep -c '^docker-' || true").out).toBe('0');
      // Only the base layer's own credentials stay: the host's, and the log forwarder's (a
      // turned-down host keeps sending its logs); none of a service.
      expect(ctx.on('aux1', 'ls /etc/credentials/x509').out.split('\n')).toEqual(['host', 'log-client']);
      expect(ctx.on('aux1', 'systemctl is-active lcsink.service').out).not.toBe('active');
      expect(ctx.on('aux1', 'nft list chain inet float input').out).not.toContain('dport 2525');
      expect(ctx.on('be2', 'nft list chain inet float input').out).toContain('dport 2525');
      // The sink now runs on be2, and the relay reaches it there by name.
      expect(ctx.on('be2', 'test -e /etc/float/services/lcsink.json').status).toBe(0);
      const marker = `lifecycle-after-turndown-${Date.now()}`;
      expect(ctx.on('be1', `echo ${marker} | mail -s "${marker}" root`).status).toBe(0);
      expect(await waitForMail(ctx, 'be2', marker, 30), 'mail through the sink on be2').toBeDefined();
    });

    // Also the run after the move: be1 still holds lcmove's data, reported again.
    it('the run after the turndown changes nothing, and still reports the data left on be1', () => {
      const r = ctx.runOk([], 'lifecycle: after the turndown');
      allUnchanged(r.out);
      expect(r.out).toMatch(/left behind on be1: service lcmove: \/var\/lib\/lcmove/);
    });
  },
};
