// WireGuard keys of the private network through the real CLI: generated once per
// overlay member by float init-credentials (reported, kept across runs), the
// private key vault-encrypted (ansible-vault reads it) and matching the public key
// by `wg pubkey`; both published to the inventory; a host that leaves is no longer
// published, its keys kept and reported; a public key without its private key is
// refused. The firewall ruleset with an overlay is checked by the real nft.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderRoleTemplates } from '../helpers/render-role.js';
import { REPO_ROOT, writeTree } from '../helpers/tree.js';

const FLOAT = join(REPO_ROOT, 'bin', 'float.mjs');
const has = (tool: string, arg = '--version') => spawnSync(tool, [arg]).error === undefined;

function tree(): string {
  return writeTree({
    'config.yml': 'plugin: float\ncredentials_dir: creds/\nvault_password_file: vault-pw\n',
    'vault-pw': 'overlay test password\n',
    'group_vars/all.yml': 'domain: internal.example.com\ndomain_public: [example.com]\nnet_overlays:\n  - {name: vpn0, network: 10.250.0.0/24, groups: [backend]}\n',
    'hosts.yml': 'hosts:\n  fe1:\n    ips: [10.0.0.1]\n    groups: [frontend]\n  be1:\n    ips: [10.0.0.2]\n    groups: [backend]\n  be2:\n    ips: [10.0.0.3]\n    groups: [backend]\n',
    'services.yml': `include: ${REPO_ROOT}/services.default.yml\nweb:\n  scheduling_group: backend\n  ports: [9470]\n`,
  });
}

const float = (dir: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [FLOAT, ...args, '--config', join(dir, 'config.yml')], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
};

describe('WireGuard keys (float init-credentials, float overlay)', () => {
  it('are generated once per member, encrypted, matching, published, and kept', () => {
    const dir = tree();
    // Unassigned members: float check and init-credentials refuse, naming the command.
    const refused = float(dir, 'init-credentials');
    expect(refused.status).toBe(2);
    expect(refused.out).toContain("run 'float overlay assign'");
    const assign = float(dir, 'overlay', 'assign');
    expect(assign.status, assign.out).toBe(0);
    expect(assign.out).toMatch(/^be1: ip_vpn0: 10\.250\.0\.\d+\nbe2: ip_vpn0: 10\.250\.0\.\d+\n/);
    expect(float(dir, 'overlay', 'assign').out).toContain('every member has its address');

    const first = float(dir, 'init-credentials');
    expect(first.status, first.out).toBe(0);
    expect(first.out).toContain('WireGuard keys: 2 generated (be1, be2), 0 unchanged');
    const creds = join(dir, 'creds', 'wireguard');
    expect(existsSync(join(creds, 'fe1.yml'))).toBe(false);
    const priv = join(creds, 'be1.yml');
    expect(statSync(priv).mode & 0o777).toBe(0o600);
    const text = readFileSync(priv, 'utf8');
    expect(text.startsWith('$ANSIBLE_VAULT;1.1;AES256')).toBe(true);
    const view = spawnSync('ansible-vault', ['view', '--vault-password-file', join(dir, 'vault-pw'), priv], { encoding: 'utf8' });
    expect(view.status, view.stderr).toBe(0);
    const key = (parse(view.stdout) as { float_overlay_private_key: string }).float_overlay_private_key;
    const pub = readFileSync(join(creds, 'be1.pub'), 'utf8').trim();
    if (has('wg', '--help')) expect(spawnSync('wg', ['pubkey'], { input: key + '\n', encoding: 'utf8' }).stdout.trim()).toBe(pub);
    // Published: the public keys to every host, the private key file (still encrypted) to its own host.
    const inv = join(dir, '.float', 'inventory');
    expect(parse(readFileSync(join(inv, 'group_vars/all/overlay_public_keys.yml'), 'utf8'))).toEqual({
      float_overlay_public_keys: { be1: pub, be2: readFileSync(join(creds, 'be2.pub'), 'utf8').trim() },
    });
    expect(readFileSync(join(inv, 'host_vars/be1/overlay_key.yml'), 'utf8')).toBe(text);
    expect(existsSync(join(inv, 'host_vars/fe1/overlay_key.yml'))).toBe(false);

    const second = float(dir, 'init-credentials');
    expect(second.out).toContain('WireGuard keys: 0 generated, 2 unchanged');
    expect(readFileSync(priv, 'utf8')).toBe(text);

    const status = float(dir, 'overlay', 'status', '--json');
    const rows = JSON.parse(status.out) as Array<{ host: string; fingerprint: string }>;
    expect(rows.map((r) => r.host)).toEqual(['be1', 'be2']);
    expect(rows[0].fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);

    // be2 leaves the overlay: no longer published, its keys kept and reported.
    writeFileSync(join(dir, 'hosts.yml'), readFileSync(join(dir, 'hosts.yml'), 'utf8').replace(/    ip_vpn0: \S+\n(?![\s\S]*ip_vpn0)/, '').replace('groups: [backend]\n  be2', 'groups: [backend]\n  be2').replace(/(be2:\n    ips: \[10.0.0.3\]\n    groups: )\[backend\]/, '$1[other]'));
    const left = float(dir, 'init-credentials');
    expect(left.status, left.out).toBe(0);
    expect(left.out).toContain('kept WireGuard keys of 1 hosts on no overlay: be2');
    expect(Object.keys((parse(readFileSync(join(inv, 'group_vars/all/overlay_public_keys.yml'), 'utf8')) as { float_overlay_public_keys: object }).float_overlay_public_keys)).toEqual(['be1']);
    const peers = (parse(readFileSync(join(inv, 'group_vars/all/float.yml'), 'utf8')) as { float_overlay_peers: Record<string, Array<{ host: string }>> }).float_overlay_peers;
    expect(peers.vpn0.map((p) => p.host)).toEqual(['be1']);

    // A public key whose private key is gone is refused, not silently replaced.
    rmSync(priv);
    const lost = float(dir, 'init-credentials');
    expect(lost.status).toBe(2);
    expect(lost.out).toMatch(/be1\.pub exists but the WireGuard private key .*be1\.yml does not.*\[F2103\]/);
    rmSync(dir, { recursive: true, force: true });
  });
});

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** float-base-firewall's ruleset, rendered into dir with these sets, service rules and overlays: its path. */
function renderFirewall(dir: string, vars: { float_firewall_sets: object; float_host_firewall: object[]; float_overlays: object[] }): string {
  const main = join(dir, 'nftables.conf');
  const vars0 = { float_firewall_main: main, float_firewall_dropin_dir: join(dir, 'd'), float_firewall_egress: [], float_firewall_internal_v4: ['127.0.0.0/8'], float_firewall_internal_v6: [] };
  renderRoleTemplates('float-base-firewall', dir, { ...vars0, ...vars }, [{ src: 'nftables.conf.j2', dest: main }]);
  mkdirSync(join(dir, 'd'), { recursive: true });
  return main;
}

describe.skipIf(!isRoot || !has('nft'))('the firewall with an overlay (nft -c)', () => {
  it('opens the WireGuard port to the members, and sends members to the overlay for service ports', () => {
    const dir = writeTree({});
    const main = renderFirewall(dir, {
      float_firewall_sets: {
        all_hosts: { v4: ['10.0.0.1', '10.250.0.1'], v6: [] },
        'overlay_vpn-0_members': { v4: ['10.0.0.1'], v6: ['2001:db8::1'] },
        overlay_v6_members: { v4: [], v6: ['2001:db8::1'] },
      },
      float_host_firewall: [{ port: 9470, protocols: ['tcp', 'udp'], service: 'web', reason: 'ports', sources: 'all_hosts' }],
      float_overlays: [
        { name: 'vpn-0', interface: 'vpn-0', network: '10.250.0.0/24', address: '10.250.0.1', prefix: 24, port: 51820, persistent_keepalive: 0 },
        { name: 'v6', interface: 'v6', network: 'fd00::/64', address: 'fd00::1', prefix: 64, port: 51821, persistent_keepalive: 0 },
      ],
    });
    const text = readFileSync(main, 'utf8');
    expect(text).toContain('ip saddr @overlay_vpn-0_members_v4 udp dport 51820 accept');
    expect(text).toContain('iifname != "vpn-0" ip saddr 10.250.0.0/24 drop');
    expect(text).toContain('iifname != "v6" ip6 saddr fd00::/64 drop');
    expect(text).toContain('iifname != "vpn-0" ip daddr 10.250.0.0/24 drop');
    expect(text).toContain('iifname != "vpn-0" ip saddr @overlay_vpn-0_members_v4 meta l4proto { tcp, udp } th dport { 9470 } drop');
    const r = spawnSync('nft', ['-c', '-f', main], { encoding: 'utf8' });
    expect(r.status, r.stderr + text).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe.skipIf(!isRoot || !has('nft') || !has('curl'))('the firewall with an overlay, loaded in network namespaces of the test', () => {
  const sh = (ns: string, cmd: string) => spawnSync('ip', ['netns', 'exec', ns, 'sh', '-c', cmd], { encoding: 'utf8' });
  it("members reach services and the overlay's addresses only through the overlay's interface; others as before", () => {
    const dir = writeTree({});
    const host = `float-ovl-h-${process.pid}`;
    const peer = `float-ovl-p-${process.pid}`;
    const tunnel = `float-ovl-o-${process.pid}`;
    let server: ReturnType<typeof spawn> | undefined;
    try {
      for (const ns of [host, peer, tunnel]) expect(spawnSync('ip', ['netns', 'add', ns]).status).toBe(0);
      // peer: 192.0.2.1 (a member's own address) and 192.0.2.3 (a non-member) on one veth; host: 192.0.2.2,
      // and its overlay address 10.250.0.2 on an interface named like the overlay (a veth: no dummy module
      // here), whose other end, in the namespace `tunnel`, holds a member's overlay address 10.250.0.1.
      const setup = [
        `ip link add ovl-p netns ${peer} type veth peer name ovl-h netns ${host}`,
        `ip -n ${peer} addr add 192.0.2.1/24 dev ovl-p`,
        `ip -n ${peer} addr add 192.0.2.3/24 dev ovl-p`,
        `ip -n ${peer} link set ovl-p up`,
        `ip -n ${peer} link set lo up`,
        `ip -n ${peer} route add 10.250.0.0/24 via 192.0.2.2`,
        `ip -n ${host} addr add 192.0.2.2/24 dev ovl-h`,
        `ip -n ${host} link set ovl-h up`,
        `ip -n ${host} link set lo up`,
        `ip -n ${host} link add vpn0 type veth peer name vpn0-end netns ${tunnel}`,
        `ip -n ${host} addr add 10.250.0.2/24 dev vpn0`,
        `ip -n ${host} link set vpn0 up`,
        `ip -n ${tunnel} addr add 10.250.0.1/24 dev vpn0-end`,
        `ip -n ${tunnel} link set vpn0-end up`,
        `ip -n ${tunnel} link set lo up`,
      ];
      for (const c of setup) expect(spawnSync('sh', ['-c', c], { encoding: 'utf8' }).status, c).toBe(0);
      const main = renderFirewall(dir, {
        float_firewall_sets: {
          all_hosts: { v4: ['10.250.0.1', '192.0.2.1', '192.0.2.3'], v6: [] },
          overlay_vpn0_members: { v4: ['192.0.2.1', '192.0.2.2'], v6: [] },
        },
        float_host_firewall: [{ port: 9470, protocols: ['tcp', 'udp'], service: 'web', reason: 'ports', sources: 'all_hosts' }],
        float_overlays: [{ name: 'vpn0', interface: 'vpn0', network: '10.250.0.0/24', address: '10.250.0.2', prefix: 24, port: 51820, persistent_keepalive: 0 }],
      });
      server = spawn('ip', ['netns', 'exec', host, 'python3', '-m', 'http.server', '9470', '--bind', '0.0.0.0', '--directory', dir], { stdio: 'ignore' });
      const get = (ns: string, from: string, url: string) => sh(ns, `for i in 1 2 3 4 5; do c=$(curl -s -m 2 --interface ${from} -o /dev/null -w '%{http_code}' ${url}); [ "$c" = 200 ] && break; sleep 1; done; echo $c`).stdout.trim();
      // Positive controls, before the ruleset is loaded: every probe below that must fail succeeds.
      expect(get(peer, '192.0.2.1', 'http://192.0.2.2:9470/')).toBe('200');
      expect(get(peer, '192.0.2.3', 'http://10.250.0.2:9470/')).toBe('200');
      const load = sh(host, `nft -f ${main}`);
      expect(load.status, load.stderr).toBe(0);
      // A non-member reaches the port on the host's own address (positive control) ...
      expect(get(peer, '192.0.2.3', 'http://192.0.2.2:9470/')).toBe('200');
      // ... a member does not: its traffic must come through the overlay ...
      expect(get(peer, '192.0.2.1', 'http://192.0.2.2:9470/')).not.toBe('200');
      // ... through which a member does reach it.
      expect(get(tunnel, '10.250.0.1', 'http://10.250.0.2:9470/')).toBe('200');
      // The overlay's addresses answer nothing that does not arrive on the overlay's interface,
      // even to a non-member that routes them through the host's own address.
      expect(get(peer, '192.0.2.3', 'http://10.250.0.2:9470/')).not.toBe('200');
    } finally {
      server?.kill();
      for (const ns of [host, peer, tunnel]) spawnSync('ip', ['netns', 'delete', ns]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
