// The private network's pure parts: address arithmetic (IPv4 and IPv6), the
// deterministic assignment of missing addresses (stable when hosts are added or
// removed, a clear error when the network is full), the hosts-file edit that
// keeps formatting, float check's overlay diagnostics, and the derived peers.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sshArgv } from '../../src/ansible/ssh.js';
import { withOverlayAddresses } from '../../src/config/hosts-edit.js';
import { generateWireguardKeyPair, wireguardPublicKey } from '../../src/credentials/wireguard.js';
import { assignAddresses, formatIp, parseCidr, parseIp, usableRange } from '../../src/config/overlay.js';
import type { NetOverlay } from '../../src/config/schema/globals.js';
import { deriveInventory } from '../../src/inventory/derive.js';
import { plan } from '../../src/plan.js';
import { diagnose } from '../helpers/diagnose.js';
import { baseTree, writeTree } from '../helpers/tree.js';

type H = { name: string; groups: string[]; overlays: Record<string, string> };
const host = (name: string, groups: string[], overlays: Record<string, string> = {}): H => ({ name, groups, overlays });
const vpn = (network: string, groups = ['backend']): NetOverlay => ({ name: 'vpn0', network, groups });
const addresses = (r: ReturnType<typeof assignAddresses>) => Object.fromEntries(r.assigned.map((a) => [a.host, a.address]));

describe('address arithmetic', () => {
  it('parses and prints IPv4 and IPv6 (RFC 5952 compression) addresses', () => {
    for (const [text, out] of [
      ['10.250.0.7', '10.250.0.7'],
      ['fd00::1', 'fd00::1'],
      ['FD00:0:0:0:0:0:0:1', 'fd00::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['::', '::'],
      ['::ffff:192.0.2.1', '::ffff:c000:201'],
      ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:6'],
    ]) expect(formatIp(parseIp(text)!), text).toBe(out);
    expect(parseIp('10.0.0.255')).toEqual({ family: 4, value: 0x0a0000ffn });
    expect(parseIp('10.0.0.256')).toBeUndefined();
    expect(parseCidr('10.250.0.9/24')).toMatchObject({ family: 4, prefix: 24 });
    // The longest prefixes parse; one more is refused.
    expect(parseCidr('10.0.0.0/32')).toMatchObject({ family: 4, prefix: 32 });
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
    expect(parseCidr('fd00::/128')).toMatchObject({ family: 6, prefix: 128 });
    expect(parseCidr('fd00::/129')).toBeUndefined();
  });

  it('leaves out the network and broadcast addresses, except in /31 and /32', () => {
    const r = (c: string) => {
      const n = parseCidr(c)!;
      const { first, last } = usableRange(n);
      return [formatIp({ family: n.family, value: first }), formatIp({ family: n.family, value: last })];
    };
    expect(r('10.0.0.0/24')).toEqual(['10.0.0.1', '10.0.0.254']);
    expect(r('10.0.0.0/31')).toEqual(['10.0.0.0', '10.0.0.1']);
    expect(r('fd00::/120')).toEqual(['fd00::1', 'fd00::ff']);
  });
});

describe('float overlay assign: address choice', () => {
  const hosts = ['a', 'b', 'c', 'd', 'e'].map((n) => host(n, ['backend']));

  it('gives every member in the groups an address in the network, distinct, and not to others', () => {
    const r = assignAddresses([vpn('10.250.0.0/24')], [...hosts, host('x', ['frontend'])]);
    expect(r.errors).toEqual([]);
    const got = addresses(r);
    expect(Object.keys(got).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(new Set(Object.values(got)).size).toBe(5);
    for (const a of Object.values(got)) expect(a).toMatch(/^10\.250\.0\.(\d+)$/);
    for (const a of Object.values(got)) expect(Number(a.split('.')[3])).toBeGreaterThan(0);
  });

  it('is deterministic, and adding or removing a host changes no other host', () => {
    const all = addresses(assignAddresses([vpn('10.250.0.0/24')], hosts));
    expect(addresses(assignAddresses([vpn('10.250.0.0/24')], [...hosts].reverse()))).toEqual(all);
    // Written back: nothing left to assign, so adding f assigns f only, and leaves the rest alone.
    const written = hosts.map((h) => host(h.name, h.groups, { vpn0: all[h.name] }));
    const withF = assignAddresses([vpn('10.250.0.0/24')], [...written, host('f', ['backend'])]);
    expect(withF.assigned.map((a) => a.host)).toEqual(['f']);
    expect(Object.values(all)).not.toContain(withF.assigned[0].address);
    // f alone, on its own branch, gets the same address (the hash of its name), unless it was taken.
    const alone = addresses(assignAddresses([vpn('10.250.0.0/24')], [host('f', ['backend'])]));
    expect(alone.f).toBe(withF.assigned[0].address);
    // Removing c frees its address, but nobody else moves and nothing is assigned.
    expect(assignAddresses([vpn('10.250.0.0/24')], written.filter((h) => h.name !== 'c')).assigned).toEqual([]);
  });

  it('never takes an address a host has, even one written by hand', () => {
    const first = addresses(assignAddresses([vpn('10.250.0.0/24')], [host('a', ['backend'])])).a;
    const r = assignAddresses([vpn('10.250.0.0/24')], [host('hand', [], { vpn0: first }), host('a', ['backend'])]);
    expect(r.assigned).toHaveLength(1);
    expect(r.assigned[0].address).not.toBe(first);
  });

  it('fills a small network exactly, and one more host is a clear error naming the overlay', () => {
    const four = ['a', 'b', 'c', 'd'].map((n) => host(n, ['backend']));
    const full = assignAddresses([vpn('10.9.0.0/29')], four.slice(0, 4).concat(host('e', ['backend']), host('f', ['backend'])));
    expect(full.errors).toEqual([]);
    expect(new Set(Object.values(addresses(full)))).toEqual(new Set(['10.9.0.1', '10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6']));
    const over = assignAddresses([vpn('10.9.0.0/29')], [...four, ...['e', 'f', 'g'].map((n) => host(n, ['backend']))]);
    expect(over.assigned).toEqual([]);
    expect(over.errors).toHaveLength(1);
    expect(over.errors[0].message).toBe("overlay 'vpn0' (10.9.0.0/29) has 6 free addresses for 7 hosts without one (a, b, c, d, e, f, g): use a larger network");
  });

  it('works on IPv6 networks, large and small', () => {
    const big = addresses(assignAddresses([vpn('fd00:1:2:3::/64')], hosts));
    for (const a of Object.values(big)) {
      expect(a).toMatch(/^fd00:1:2:3:/);
      expect(parseCidr('fd00:1:2:3::/64')!.base).toBe(parseCidr(`${a}/64`)!.base);
    }
    expect(new Set(Object.values(big)).size).toBe(5);
    const small = assignAddresses([vpn('fd00::/126')], hosts.slice(0, 3));
    expect(new Set(Object.values(addresses(small)))).toEqual(new Set(['fd00::1', 'fd00::2', 'fd00::3']));
    expect(assignAddresses([vpn('fd00::/126')], hosts.slice(0, 4)).errors[0].message).toContain('has 3 free addresses for 4 hosts');
  });
});

describe('float overlay assign: the hosts file edit', () => {
  const text = [
    '# fleet',
    'hosts:',
    '  a:',
    '    ips: [192.0.2.1]   # first',
    '    groups: [backend]',
    '  b: {ips: [192.0.2.2], groups: [backend]}',
    '  c:',
    "    ips: ['192.0.2.3']",
    '    ip_vpn0: 10.250.0.3',
    'group_vars:',
    '  all:',
    '    x: 1 # kept',
    '',
  ].join('\n');

  it('adds one line (or one flow entry) per host and leaves every other byte as written', () => {
    const out = withOverlayAddresses('hosts.yml', text, [
      { host: 'a', overlay: 'vpn0', address: '10.250.0.1' },
      { host: 'b', overlay: 'vpn0', address: '10.250.0.2' },
    ]);
    expect(out).toBe(
      text
        .replace('    groups: [backend]\n', '    groups: [backend]\n    ip_vpn0: 10.250.0.1\n')
        .replace('groups: [backend]}', 'groups: [backend], ip_vpn0: 10.250.0.2}'),
    );
  });

  it('refuses to overwrite an address, and a host not written as a mapping', () => {
    expect(() => withOverlayAddresses('hosts.yml', text, [{ host: 'c', overlay: 'vpn0', address: '10.250.0.9' }])).toThrow(/already has ip_vpn0/);
    expect(() => withOverlayAddresses('hosts.yml', 'hosts:\n  z: ~\n', [{ host: 'z', overlay: 'vpn0', address: '10.250.0.9' }])).toThrow(/not written as a mapping/);
  });
});

describe('float check on overlays (F2008, F2100, F2101)', () => {
  const globals = (overlays: string) => `domain: i.example.com\ndomain_public: [example.com]\nnet_overlays:\n${overlays}`;
  const codes = (files: Record<string, string>) => diagnose(files).map((d) => `${d.at} ${d.message}`);

  it('a member in the groups without an address is an error naming float overlay assign', () => {
    const d = codes({
      'group_vars/all.yml': globals('  - {name: vpn0, network: 10.250.0.0/24, groups: [backend]}\n'),
      'hosts.yml': 'hosts:\n  h1:\n    ips: [10.0.0.1]\n    groups: [backend]\n  h2:\n    ips: [10.0.0.2]\n    groups: [backend]\n    ip_vpn0: 10.250.0.2\n  h3:\n    ips: [10.0.0.3]\n    groups: [frontend]\n',
      'services.yml': 'a: {}\n',
    });
    expect(d).toEqual(["hosts.yml:2:3 F2101 host 'h1' is in a group of overlay 'vpn0' but has no ip_vpn0: run 'float overlay assign' to write one into the hosts file"]);
  });

  it('overlay names must be interface names; names and ports must be unique', () => {
    const d = codes({
      'group_vars/all.yml': globals(
        '  - {name: a-very-long-overlay, network: 10.1.0.0/24}\n  - {name: lo, network: 10.2.0.0/24}\n  - {name: ok, network: 10.3.0.0/24, port: 51820}\n  - {name: ok, network: 10.4.0.0/24}\n',
      ),
      'services.yml': 'a: {}\n',
    }).map((x) => x.split(' ').slice(0, 2).join(' '));
    // lo: reserved; ok: its port 51820 is the first overlay's default; the second ok: a name twice.
    expect(d).toEqual(['group_vars/all.yml:4:12 F2100', 'group_vars/all.yml:5:12 F2100', 'group_vars/all.yml:6:44 F2100', 'group_vars/all.yml:7:12 F2100']);
  });

  it('IPv6 overlays take IPv6 addresses, and one address spelled two ways is one address', () => {
    const d = codes({
      'group_vars/all.yml': globals('  - {name: v6, network: "fd00:1::/64"}\n'),
      'hosts.yml': 'hosts:\n  h1:\n    ips: [10.0.0.1]\n    ip_v6: "fd00:1::1"\n  h2:\n    ips: [10.0.0.2]\n    ip_v6: "fd00:1:0::1"\n  h3:\n    ips: [10.0.0.3]\n    ip_v6: 10.9.0.1\n  h4:\n    ips: [10.0.0.4]\n    ip_v6: "fd00:2::1"\n',
      'services.yml': 'a: {}\n',
    }).map((x) => x.split(' ').slice(0, 2).join(' '));
    expect(d).toEqual(['hosts.yml:7:12 F2009', 'hosts.yml:10:12 F2008', 'hosts.yml:13:12 F2008']);
  });
});

describe('derived peers and firewall sets', () => {
  const files = (hosts: string[]) =>
    baseTree({
      'group_vars/all.yml': 'domain: i.example.com\ndomain_public: [example.com]\nnet_overlays:\n  - {name: vpn0, network: 10.250.0.0/24, persistent_keepalive: 25}\n  - {name: v6, network: "fd00::/64", port: 4000}\n',
      'hosts.yml':
        'hosts:\n' +
        hosts.join('') +
        '  other:\n    ips: [192.0.2.99]\n    groups: [backend]\n',
      'services.yml': 'a:\n  scheduling_group: backend\n  ports: [9470]\n',
    });
  const h = (n: number, v6 = false) => `  h${n}:\n    ips: [192.0.2.${n}]\n    groups: [backend]\n    ip_vpn0: 10.250.0.${n}\n${v6 ? `    ip_v6: "fd00::${n}"\n    public_ips: ["2001:db8::${n}"]\n` : ''}`;
  const derive = (hosts: string[]) => {
    const p = plan(join(writeTree(files(hosts)), 'config.yml'));
    return deriveInventory(p.model, p.schedule);
  };

  it('every member is a peer with its public endpoint and a single-address allowed-ips; ports default to 51820 + index', () => {
    const inv = derive([h(1), h(2, true), h(3, true)]);
    const peers = inv.groupVars.all.float.float_overlay_peers as Record<string, unknown[]>;
    expect(peers.vpn0).toEqual([
      { host: 'h1', endpoint: '192.0.2.1:51820', allowed_ips: ['10.250.0.1/32'] },
      { host: 'h2', endpoint: '[2001:db8::2]:51820', allowed_ips: ['10.250.0.2/32'] },
      { host: 'h3', endpoint: '[2001:db8::3]:51820', allowed_ips: ['10.250.0.3/32'] },
    ]);
    expect(peers.v6).toEqual([
      { host: 'h2', endpoint: '[2001:db8::2]:4000', allowed_ips: ['fd00::2/128'] },
      { host: 'h3', endpoint: '[2001:db8::3]:4000', allowed_ips: ['fd00::3/128'] },
    ]);
    expect(inv.hostVars.h2.float_overlays).toEqual([
      { name: 'vpn0', interface: 'vpn0', network: '10.250.0.0/24', address: '10.250.0.2', prefix: 24, port: 51820, persistent_keepalive: 25 },
      { name: 'v6', interface: 'v6', network: 'fd00::/64', address: 'fd00::2', prefix: 64, port: 4000, persistent_keepalive: 0 },
    ]);
    expect(inv.hostVars.other.float_overlays).toEqual([]);
    const sets = inv.groupVars.all.float.float_firewall_sets as Record<string, { v4: string[]; v6: string[] }>;
    expect(sets.overlay_vpn0_members).toEqual({ v4: ['192.0.2.1', '192.0.2.2', '192.0.2.3'], v6: ['2001:db8::2', '2001:db8::3'] });
    expect(sets.overlay_v6_members).toEqual({ v4: ['192.0.2.2', '192.0.2.3'], v6: ['2001:db8::2', '2001:db8::3'] });
  });

  it('a removed host is in no peer list and no firewall set', () => {
    const inv = derive([h(1), h(3, true)]);
    const peers = inv.groupVars.all.float.float_overlay_peers as Record<string, Array<{ host: string }>>;
    expect(peers.vpn0.map((p) => p.host)).toEqual(['h1', 'h3']);
    expect(peers.v6.map((p) => p.host)).toEqual(['h3']);
    const sets = JSON.stringify(inv.groupVars.all.float.float_firewall_sets);
    expect(sets).not.toContain('192.0.2.2');
    // Positive controls: the hosts that stay are in the sets, and have host variables.
    expect(sets).toContain('"192.0.2.3"');
    expect(inv.hostVars.h2).toBeUndefined();
    expect(inv.hostVars.h3).toBeDefined();
  });
});

describe('float overlay status --live: the ssh command (the shared sshArgv)', () => {
  it('takes the key from ansible_private_key_file too, as Ansible does, and prefers ansible_ssh_private_key_file', () => {
    const model = (key: string) =>
      plan(join(writeTree(baseTree({ 'hosts.yml': `hosts:\n  h1:\n    ips: [192.0.2.1]\n    groups: [backend]\n${key}` })), 'config.yml')).model;
    const m = model('    ansible_private_key_file: keys/a\n');
    expect(sshArgv(m, m.hosts[0], 'wg show vpn0 latest-handshakes')).toEqual(['ssh', '-o', 'BatchMode=yes', '-i', join(m.configPath, '..', 'keys/a'), '--', '192.0.2.1', 'wg show vpn0 latest-handshakes']);
    const both = model('    ansible_private_key_file: keys/a\n    ansible_ssh_private_key_file: keys/b\n');
    expect(sshArgv(both, both.hosts[0], 'x')).toContain(join(both.configPath, '..', 'keys/b'));
  });
});

describe('WireGuard keys', () => {
  it('derives the public key of a private key, and refuses what is not a key (base64 of 32 bytes)', () => {
    const pair = generateWireguardKeyPair();
    expect(wireguardPublicKey(pair.privateKey)).toBe(pair.publicKey);
    expect(() => wireguardPublicKey(pair.privateKey.slice(0, -4))).toThrow(/not a WireGuard key/);
    expect(() => wireguardPublicKey(`${pair.privateKey}\n`)).toThrow(/not a WireGuard key/);
  });
});
