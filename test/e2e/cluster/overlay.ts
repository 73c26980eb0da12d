// The private network (net_overlays) on the shared cluster hosts: fe1, be1 and be2
// form the WireGuard mesh vpn0 (wireguard-go: the test hosts share this machine's
// kernel, which has no WireGuard); a service's `ports` port on be1 answers over the
// overlay and not on be1's bridge address; on the wire between members there is only
// WireGuard's UDP. Then aux1 joins through the overlay's groups: float check refuses
// until float overlay assign writes its address, and after float run all four hosts
// reach each other.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { changedTasks, recap } from '../../helpers/local-env.js';
import type { ClusterCtx, ClusterLayout, ClusterSuite } from './suite.js';

const MEMBERS = ['fe1', 'be1', 'be2'] as const;
const PORT = 9470;
const WG_PORT = 51820;

/** The overlay network: 10.250.0.0/24, unless the bridge happens to be there. */
function overlayPrefix(l: Pick<ClusterLayout, 'network'>): string {
  return l.network.startsWith('10.250.') ? '10.251.0' : '10.250.0';
}

const ADDR: Record<(typeof MEMBERS)[number], number> = { fe1: 1, be1: 2, be2: 3 };

/** Retries a command on a host until it succeeds (the first handshake takes a moment): the last result. */
function until(ctx: ClusterCtx, host: string, command: string, tries = 5): { status: number; out: string } {
  let r = ctx.on(host, command);
  for (let i = 1; i < tries && r.status !== 0; i++) r = ctx.on(host, `sleep 2; ${command}`);
  return r;
}

const curl = (url: string) => `curl -sS -m 4 -o /dev/null -w '%{http_code}' ${url}`;

export const overlaySuite: ClusterSuite = {
  name: 'overlay',
  globals: (l) => `net_overlays:\n  - {name: vpn0, network: ${overlayPrefix(l)}.0/24, groups: [frontend, backend]}\n`,
  hostAttrs: (l) => ({
    fe1: [`ip_vpn0: ${overlayPrefix(l)}.${ADDR.fe1}`],
    be1: [`ip_vpn0: ${overlayPrefix(l)}.${ADDR.be1}`],
    be2: [`ip_vpn0: ${overlayPrefix(l)}.${ADDR.be2}`],
  }),
  hostGroups: { be1: ['ovlweb'] },
  services: () =>
    [
      'ovlweb:',
      '  scheduling_group: ovlweb',
      '  num_instances: 1',
      `  ports: [${PORT}]`,
      '  containers:',
      '    - name: http',
      '      image: localhost/busybox:latest',
      `      args: /bin/httpd -f -p ${PORT} -h /etc`,
      '',
    ].join('\n'),

  checks(ctx) {
    const ov = (h: (typeof MEMBERS)[number]) => `${overlayPrefix(ctx)}.${ADDR[h]}`;

    it('every member pings every other over vpn0 (wireguard-go), and a non-member cannot', () => {
      for (const a of MEMBERS) {
        expect(ctx.on(a, 'systemctl is-active float-overlay-vpn0.service').out, a).toBe('active');
        expect(ctx.on(a, 'systemctl show -p ExecStart --value float-overlay-vpn0.service').out, a).toContain('wireguard-go');
        expect(ctx.on(a, 'stat -c %a:%U /etc/wireguard/vpn0.conf').out, a).toBe('600:root');
        for (const b of MEMBERS) {
          if (a === b) continue;
          const r = until(ctx, a, `ping -c 1 -W 2 ${ov(b)}`);
          expect(r.status, `${a} -> ${b} (${ov(b)}): ${r.out}`).toBe(0);
        }
      }
      // aux1 is on no overlay: no interface, and no route through one (a ping would leave the
      // test network by the default route, so none is sent).
      expect(ctx.on('aux1', 'ip link show vpn0').status).not.toBe(0);
      expect(ctx.on('be1', 'ip link show vpn0').status).toBe(0); // positive control: the probe finds it on a member
      expect(ctx.on('aux1', `ip -o route get ${ov('be1')}`).out).not.toContain('dev vpn0');
      expect(ctx.on('be1', `ip -o route get ${ov('be2')}`).out).toContain('dev vpn0');
      // Each member sees both others as peers with a completed handshake.
      const hs = ctx.on('be1', 'wg show vpn0 latest-handshakes').out.split('\n').filter(Boolean);
      expect(hs).toHaveLength(2);
      for (const line of hs) expect(Number(line.split(/\s+/)[1]), line).toBeGreaterThan(0);
    });

    it("a `ports` port on be1 answers from be2 over the overlay, not on be1's bridge address", () => {
      const name = `be1.ovlweb.${ctx.domain}`;
      expect(ctx.on('be2', `getent hosts ${name}`).out.split(/\s+/)[0]).toBe(ov('be1'));
      const over = until(ctx, 'be2', curl(`http://${name}:${PORT}/hostname`));
      expect(over.out, over.out).toBe('200');
      // Negative: the same port on be1's bridge address, from a member.
      expect(ctx.on('be2', curl(`http://${ctx.ip.be1}:${PORT}/hostname`)).out).not.toBe('200');
      // Positive controls: the port does answer on the bridge address (to aux1, not a member) and locally.
      expect(ctx.on('aux1', curl(`http://${ctx.ip.be1}:${PORT}/hostname`)).out).toBe('200');
      expect(ctx.on('be1', curl(`http://127.0.0.1:${PORT}/hostname`)).out).toBe('200');
    });

    it('between members the wire carries only WireGuard UDP: no plaintext TCP to the service port', () => {
      const capture = (host: string, url: string) =>
        ctx.on(
          host,
          `rm -f /tmp/ovl.cap; (timeout 6 tcpdump -i eth0 -nn -l 'tcp port ${PORT} or udp port ${WG_PORT}' >/tmp/ovl.cap 2>/dev/null &); sleep 2; ` +
            `${curl(url)}; echo; sleep 5; cat /tmp/ovl.cap`,
        ).out;
      const member = capture('be2', `http://be1.ovlweb.${ctx.domain}:${PORT}/hostname`);
      expect(member.split('\n')[0], member).toBe('200');
      expect(member, member).toMatch(new RegExp(`${ctx.ip.be1.replace(/\./g, '\\.')}\\.${WG_PORT}: UDP`));
      expect(member, member).not.toMatch(new RegExp(`\\.${PORT}: Flags`));
      // Positive control: the same capture on aux1 (not a member) does show the plaintext TCP.
      const plain = capture('aux1', `http://${ctx.ip.be1}:${PORT}/hostname`);
      expect(plain.split('\n')[0], plain).toBe('200');
      expect(plain, plain).toMatch(new RegExp(`${ctx.ip.be1.replace(/\./g, '\\.')}\\.${PORT}: Flags`));
    });

    it('float overlay status --live shows every member with its key and a handshake with each peer', () => {
      const r = ctx.float(['overlay', 'status', '--live', '--json']);
      expect(r.status, r.out).toBe(0);
      const rows = JSON.parse(r.out.split('\n').find((l) => l.startsWith('['))!) as Array<{ host: string; address: string; fingerprint: string; handshakes: Record<string, number | null> }>;
      expect(rows.map((x) => x.host).sort()).toEqual([...MEMBERS].sort());
      for (const row of rows) {
        expect(row.address).toBe(ov(row.host as (typeof MEMBERS)[number]));
        expect(row.fingerprint).toMatch(/^SHA256:/);
        const others = MEMBERS.filter((m) => m !== row.host);
        expect(Object.keys(row.handshakes).sort(), row.host).toEqual([...others].sort());
        for (const o of others) expect(row.handshakes[o], `${row.host} <- ${o}`).not.toBeNull();
      }
    });
  },

  changes(ctx) {
    it('aux1 joins through the overlay groups: check refuses until overlay assign; other addresses stay; all four reach each other', () => {
      ctx.edit('group_vars/all/overlay.yml', (t) => t.replace('groups: [frontend, backend]', 'groups: [frontend, backend, aux]'), 'overlay: aux joins vpn0');
      const refused = ctx.float(['check']);
      expect(refused.status, refused.out).toBe(2);
      expect(refused.out).toMatch(/host 'aux1' is in a group of overlay 'vpn0' but has no ip_vpn0: run 'float overlay assign'.*\[F2101\]/);
      const before = readHosts(ctx);
      const assign = ctx.float(['overlay', 'assign']);
      expect(assign.status, assign.out).toBe(0);
      const m = /^aux1: ip_vpn0: (\S+)$/m.exec(assign.out);
      expect(m, assign.out).not.toBeNull();
      const aux = m![1];
      expect(aux.startsWith(`${overlayPrefix(ctx)}.`)).toBe(true);
      // Only one line was added: every other address (and comment) is as it was.
      const after = readHosts(ctx);
      expect(after.split('\n').filter((l) => !before.split('\n').includes(l))).toEqual([`    ip_vpn0: ${aux}`]);
      expect(before.split('\n').filter((l) => !after.split('\n').includes(l))).toEqual([]);
      expect(ctx.float(['check']).status).toBe(0);
      ctx.commit('overlay: aux1 address');
      ctx.runOk([], 'overlay: aux1 joins');
      const all = { fe1: `${overlayPrefix(ctx)}.${ADDR.fe1}`, be1: `${overlayPrefix(ctx)}.${ADDR.be1}`, be2: `${overlayPrefix(ctx)}.${ADDR.be2}`, aux1: aux };
      for (const a of Object.keys(all)) {
        for (const [b, addr] of Object.entries(all)) {
          if (a === b) continue;
          const r = until(ctx, a, `ping -c 1 -W 2 ${addr}`, 8);
          expect(r.status, `${a} -> ${b} (${addr}): ${r.out}`).toBe(0);
        }
      }
      expect(ctx.on('be1', 'wg show vpn0 peers').out.split('\n').filter(Boolean)).toHaveLength(3);
    });

    it('aux1 leaves again: its key is in no peer list, its interface and unit are gone, the others still reach each other', () => {
      const keyOf = (h: string) => ctx.on(h, 'wg show vpn0 public-key').out.trim();
      const auxKey = keyOf('aux1');
      expect(auxKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      // Positive control: before it leaves, every other member has aux1's key as a peer.
      for (const h of MEMBERS) expect(ctx.on(h, 'wg show vpn0 peers').out.split('\n'), h).toContain(auxKey);
      ctx.edit('group_vars/all/overlay.yml', (t) => t.replace('groups: [frontend, backend, aux]', 'groups: [frontend, backend]'), 'overlay: aux leaves vpn0');
      const before = readHosts(ctx);
      ctx.edit('hosts.yml', (t) => dropAddress(t, 'aux1'), 'overlay: aux1 address dropped');
      // Exactly aux1's address line went.
      const after = readHosts(ctx);
      expect(before.split('\n').filter((l) => !after.split('\n').includes(l))).toEqual([expect.stringMatching(/^    ip_vpn0: \S+$/)]);
      expect(after.match(/ip_vpn0:/g)).toHaveLength(MEMBERS.length);
      ctx.runOk([], 'overlay: aux1 leaves');
      for (const h of MEMBERS) {
        const peers = ctx.on(h, 'wg show vpn0 peers').out.split('\n').filter(Boolean);
        expect(peers, h).not.toContain(auxKey);
        expect(peers, h).toHaveLength(MEMBERS.length - 1);
      }
      expect(ctx.on('aux1', 'ip link show vpn0').status).not.toBe(0);
      expect(ctx.on('aux1', 'test -e /etc/systemd/system/float-overlay-vpn0.service').status).not.toBe(0);
      // Positive controls, same probes: a member still has both.
      expect(ctx.on('be1', 'ip link show vpn0').status).toBe(0);
      expect(ctx.on('be1', 'test -e /etc/systemd/system/float-overlay-vpn0.service').status).toBe(0);
      const r = until(ctx, 'be1', `ping -c 1 -W 2 ${overlayPrefix(ctx)}.${ADDR.fe1}`, 8);
      expect(r.status, r.out).toBe(0);
    });

    it('after aux1 joined and left, a second run changes nothing', () => {
      const r = ctx.runOk([], 'overlay: second run');
      const counts = recap(r.out);
      const changed = Object.keys(counts).filter((h) => counts[h].changed !== 0);
      expect(changed, `changed tasks:\n${changedTasks(r.out).join('\n')}`).toEqual([]);
    });
  },
};

const readHosts = (ctx: ClusterCtx) => readFileSync(join(ctx.dir, 'hosts.yml'), 'utf8');

/** hosts.yml without `host`'s ip_vpn0 line; the other hosts' lines as they are. */
function dropAddress(text: string, host: string): string {
  let inHost = false;
  return text
    .split('\n')
    .filter((l) => {
      if (/^\S/.test(l)) inHost = false;
      else if (/^  \S/.test(l)) inHost = l.trim() === `${host}:`;
      return !(inHost && /^    ip_vpn0:/.test(l));
    })
    .join('\n');
}
