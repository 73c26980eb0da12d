// Boots two real Debian bookworm hosts on this machine (systemd-nspawn, private
// bridge, one network namespace each), checks systemd, networking and podman inside
// them, and checks that `env down` leaves nothing behind. Needs root, systemd-nspawn
// and debootstrap; the first run builds the cached rootfs (minutes).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { register as registerEnv } from '../../src/cli/env.js';
import { envDown, envStatus, envUp, sshCommand } from '../../src/env/local-hosts.js';
import { netnsName, pickFreeNetwork, specFromConfig, vethName, type EnvSpec } from '../../src/env/spec.js';
import { missingTools, processAlive, processCmdline, allPids, run, type RunResult } from '../../src/env/sys.js';
import { skipUnlessRequired } from '../helpers/prerequisites.js';
import { writeTree } from '../helpers/tree.js';

const notRoot = typeof process.getuid === 'function' && process.getuid() !== 0;
const missing = missingTools(['systemd-nspawn', 'debootstrap']);
const skipReason = skipUnlessRequired(
  'the local test hosts e2e test',
  notRoot ? 'not running as root' : missing.length ? `missing ${missing.map((m) => `${m.tool} (apt-get install ${m.pkg})`).join(', ')}` : undefined,
);

const secs = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

describe.skipIf(skipReason !== undefined)('local test hosts (systemd-nspawn)', () => {
  let dir = '';
  let spec: EnvSpec | undefined;

  function onHost(host: string, command: string, input?: string | Buffer, timeoutMs = 120_000): Promise<RunResult> {
    const [cmd, ...args] = sshCommand(spec!, host, [command]);
    return run(cmd, args, { allowFail: true, input, timeoutMs });
  }

  function pidsOf(s: Awaited<ReturnType<typeof envStatus>>): Record<string, number | undefined> {
    return Object.fromEntries(s.hosts.map((h) => [h.name, h.pid]));
  }

  beforeAll(async () => {
    const network = pickFreeNetwork();
    const prefix = network.split('.').slice(0, 3).join('.');
    dir = writeTree(
      {
        'config.yml': `plugin: float\ntest_env:\n  network: ${network}\n`,
        'hosts.yml': `hosts:\n  host1:\n    ips: [${prefix}.10]\n    groups: [frontend]\n  host2:\n    ip: ${prefix}.11\n    groups: [backend]\n`,
      },
      'float-env-e2e-',
    );
    spec = specFromConfig(join(dir, 'config.yml'));
    const t0 = Date.now();
    await envUp(spec);
    console.log(`env up (${spec.hosts.length} hosts on ${network}, rootfs cache included): ${secs(t0)}`);
  }, 45 * 60_000);

  afterAll(async () => {
    if (spec) await envDown(spec).catch((e) => console.error(`env down failed: ${(e as Error).message}`));
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 5 * 60_000);

  it('reads the env spec from config.yml and hosts.yml', () => {
    expect(spec!.hosts.map((h) => h.name)).toEqual(['host1', 'host2']);
    expect(spec!.gateway.endsWith('.1')).toBe(true);
    expect(spec!.bridge.length).toBeLessThanOrEqual(15);
    expect(spec!.stateDir).toBe(join(dir, '.float-env'));
  });

  it('boots systemd on every host', async () => {
    for (const h of spec!.hosts) {
      const r = await onHost(h.name, 'systemctl is-system-running --wait');
      const state = r.stdout.trim();
      if (state !== 'running') {
        const failed = await onHost(h.name, 'systemctl --failed --no-legend --plain; journalctl -b -p warning --no-pager | tail -n 30');
        console.log(`${h.name}: system ${state || r.stderr.trim()}; failed units and warnings:\n${failed.stdout}`);
      }
      expect(['running', 'degraded']).toContain(state);
      expect((await onHost(h.name, 'hostname')).stdout.trim()).toBe(h.name);
    }
  }, 300_000);

  it('puts the hosts on one network: host1 reaches host2 by ping and on port 22', async () => {
    const host2 = spec!.hosts[1].ip;
    const ping = await onHost('host1', `ping -c 1 -W 2 ${host2}`);
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    const tcp = await onHost('host1', `timeout 5 bash -c '</dev/tcp/${host2}/22' && echo open`);
    expect(tcp.stdout.trim(), tcp.stderr).toBe('open');
    const addr = await onHost('host2', 'ip -4 -o addr show dev eth0');
    expect(addr.stdout).toContain(`${host2}/24`);
  }, 60_000);

  it('runs a podman container from an image imported from busybox-static', async () => {
    const busybox = '/bin/busybox';
    expect(existsSync(busybox), 'install busybox-static on this machine').toBe(true);
    const img = join(dir, 'busybox-image');
    mkdirSync(join(img, 'bin'), { recursive: true });
    copyFileSync(busybox, join(img, 'bin', 'busybox'));
    for (const applet of ['sh', 'echo', 'cat', 'ls', 'sleep', 'httpd']) symlinkSync('busybox', join(img, 'bin', applet));
    const tar = execFileSync('tar', ['-C', img, '-cf', '-', '.'], { maxBuffer: 64 << 20 });
    const r = await onHost(
      'host1',
      'cat > /tmp/busybox.tar && podman import -q /tmp/busybox.tar localhost/busybox >/dev/null && ' +
        'podman run --rm --memory 64m --pids-limit 50 localhost/busybox echo hello-from-podman',
      tar,
      180_000,
    );
    expect(r.stdout, r.stderr).toContain('hello-from-podman');
  }, 240_000);

  it('env up again is a no-op', async () => {
    const before = pidsOf(await envStatus(spec!));
    const t0 = Date.now();
    const after = await envUp(spec!);
    console.log(`second env up: ${secs(t0)}`);
    expect(pidsOf(after)).toEqual(before);
    expect(after.hosts.every((h) => h.running && h.ssh === 'ready')).toBe(true);
  }, 300_000);

  it('reports status', async () => {
    const s = await envStatus(spec!);
    expect(s.bridgeUp).toBe(true);
    expect(s.nat).toBe(true);
    for (const h of s.hosts) {
      expect(h.running).toBe(true);
      expect(h.mounted).toBe(true);
      expect(h.ssh).toBe('ready');
    }
  }, 60_000);

  it('float env status and float env ssh work from the command line', async () => {
    const cli = async (args: string[]): Promise<{ code: number; out: string }> => {
      let code = 0;
      let out = '';
      const program = new Command().exitOverride();
      registerEnv(program, (c) => {
        code = c;
      });
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        out += String(chunk);
        return true;
      });
      try {
        await program.parseAsync(args, { from: 'user' });
      } finally {
        spy.mockRestore();
      }
      return { code, out };
    };
    const config = join(dir, 'config.yml');
    const status = await cli(['env', 'status', '--json', '--config', config]);
    expect(status.code).toBe(0);
    expect((JSON.parse(status.out) as { hosts: { ssh: string }[] }).hosts.map((h) => h.ssh)).toEqual(['ready', 'ready']);
    expect((await cli(['env', 'ssh', '--config', config, 'host2', '--', 'test', '$(hostname)', '=', 'host2'])).code).toBe(0);
    expect((await cli(['env', 'ssh', '--config', config, 'host2', '--', 'false'])).code).toBe(1);
  }, 60_000);

  it('env down removes the hosts, namespaces, bridge, NAT rule and mounts; twice is harmless', async () => {
    const t0 = Date.now();
    await envDown(spec!);
    console.log(`env down: ${secs(t0)}`);
    await envDown(spec!);

    const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    for (const h of spec!.hosts) expect(netns).not.toContain(netnsName(spec!, h.name));
    const links = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' });
    expect(links).not.toContain(spec!.bridge);
    for (const h of spec!.hosts) expect(links).not.toContain(vethName(spec!, h.name));
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(dir);
    const nat = execFileSync('iptables', ['-w', '-t', 'nat', '-S', 'POSTROUTING'], { encoding: 'utf8' });
    expect(nat).not.toContain(`float-env ${spec!.name}`);
    const procs = allPids().filter((p) => processAlive(p) && processCmdline(p).some((a) => a.includes(dir)));
    expect(procs.map((p) => processCmdline(p).join(' '))).toEqual([]);
    const cgroups = execFileSync('find', ['/sys/fs/cgroup', '-maxdepth', '8', '-type', 'd', '-name', `${spec!.name}-*`], { encoding: 'utf8' });
    expect(cgroups.trim()).toBe('');
    const s = await envStatus(spec!);
    expect(s.hosts.some((h) => h.running || h.mounted)).toBe(false);
    expect(existsSync(join(spec!.stateDir, 'hosts'))).toBe(false);
  }, 120_000);
});
