// The float-base-firewall role's templates, rendered by Ansible and checked by the real
// nft: a broken drop-in is refused before it is installed, with its file named; the
// load script nftables.service runs at boot keeps float's rules when an operator's
// drop-in is broken (run in a network namespace of the test's own); ssh_allowed_from
// restricts port 22.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderRoleTemplates } from '../helpers/render-role.js';
import { skipUnlessRequired } from '../helpers/prerequisites.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasNft = spawnSync('nft', ['--version']).status === 0;
const skipFirewall = skipUnlessRequired('the firewall role tests', !isRoot ? 'not running as root' : !hasNft ? 'nft is not installed' : undefined);

const dirs: string[] = [];
const netns: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  for (const n of netns) spawnSync('ip', ['netns', 'delete', n]);
});

/** Renders the ruleset and the two scripts with the drop-in directory and main file under a temporary directory. */
function setUp(vars: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'float-firewall-'));
  dirs.push(dir);
  const dropins = join(dir, 'nftables.d');
  mkdirSync(dropins);
  const main = join(dir, 'nftables.conf');
  renderRoleTemplates(
    'float-base-firewall',
    dir,
    {
      float_firewall_main: main,
      float_firewall_dropin_dir: dropins,
      float_firewall_egress: [],
      float_firewall_internal_v4: ['127.0.0.0/8'],
      float_firewall_internal_v6: [],
      float_firewall_sets: { internal: { v4: ['10.0.0.0/24'], v6: [] } },
      float_host_firewall: [{ port: 9090, protocols: ['tcp'], service: 'api', reason: 'ports', sources: 'internal' }],
      ...vars,
    },
    [
      { src: 'nftables.conf.j2', dest: main },
      { src: 'float-nft-check.j2', dest: join(dir, 'float-nft-check') },
      { src: 'float-nft-load.j2', dest: join(dir, 'float-nft-load') },
    ],
  );
  return { dir, dropins, main, check: join(dir, 'float-nft-check'), load: join(dir, 'float-nft-load') };
}

const sh = (args: string[], ns?: string) => {
  const r = spawnSync(ns ? 'ip' : args[0], ns ? ['netns', 'exec', ns, ...args] : args.slice(1), { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
};

describe.skipIf(skipFirewall !== undefined)('float-base-firewall: nothing broken is installed or loaded', () => {
  it('float-nft-check accepts a good drop-in, refuses a broken one naming its file, and sees the operator drop-ins too', () => {
    const { dir, dropins, main, check } = setUp();
    expect(sh(['nft', '-c', '-f', main]).status).toBe(0);
    const good = join(dir, 'candidate-good');
    writeFileSync(good, 'add rule inet float input tcp dport { 80, 443 } accept\n');
    const ok = sh(['sh', check, join(dropins, 'float-nginx.nft'), good]);
    expect(ok.out).toBe('');
    expect(ok.status).toBe(0);

    const bad = join(dir, 'candidate-bad');
    writeFileSync(bad, '# nothing wrong on the first line\nadd rule inet float input tcp dport 80 acept\n');
    const refused = sh(['sh', check, join(dropins, 'float-nginx.nft'), bad]);
    expect(refused.status).toBe(1);
    // The error names the drop-in being installed and the line, not the temporary file.
    expect(refused.out).toContain(`${join(dropins, 'float-nginx.nft')}:2:`);
    expect(refused.out).not.toContain(bad);

    // A good candidate is refused when an operator's drop-in already breaks the ruleset,
    // and the error names the operator's file.
    writeFileSync(join(dropins, 'local.nft'), 'add rule inet float input udp dport 3200 accept\nthis is not nftables\n');
    const theirs = sh(['sh', check, join(dropins, 'float-nginx.nft'), good]);
    expect(theirs.status).toBe(1);
    expect(theirs.out).toContain(`${join(dropins, 'local.nft')}:2:`);
    // ...and so is the main file with that drop-in (the role's `validate: nft -c -f %s`).
    const whole = sh(['nft', '-c', '-f', main]);
    expect(whole.status).not.toBe(0);
    expect(whole.out).toContain(join(dropins, 'local.nft'));
    // A drop-in that refers to a set of float's loads with its file replaced in place.
    rmSync(join(dropins, 'local.nft'));
    writeFileSync(join(dropins, 'float-nginx.nft'), 'add rule inet float input tcp dport 80 accept\n');
    writeFileSync(good, 'add rule inet float input ip saddr @internal_v4 tcp dport 81 accept\n');
    expect(sh(['sh', check, join(dropins, 'float-nginx.nft'), good]).status).toBe(0);
  });

  it('float-nft-load: a broken drop-in at boot still loads float rules and the good drop-ins, and fails the unit', () => {
    const { dropins, main, load } = setUp();
    const ns = `float-fwtest-${process.pid}`;
    expect(sh(['ip', 'netns', 'add', ns]).status).toBe(0);
    netns.push(ns);
    writeFileSync(join(dropins, 'a-good.nft'), 'add rule inet float input tcp dport 8081 accept comment "a-good"\n');
    writeFileSync(join(dropins, 'b-broken.nft'), 'add rule inet float input tcp dport 8082 acept\n');
    writeFileSync(join(dropins, 'c-good.nft'), 'add rule inet float input tcp dport 8083 accept comment "c-good"\n');
    // Before: nothing in the namespace, and the plain `nft -f` of the stock unit loads nothing.
    expect(sh(['nft', 'list', 'ruleset'], ns).out).toBe('');
    const stock = sh(['nft', '-f', main], ns);
    expect(stock.status).not.toBe(0);
    // It fails for the broken drop-in, not for some other reason.
    expect(stock.out).toContain(join(dropins, 'b-broken.nft'));
    expect(sh(['nft', 'list', 'ruleset'], ns).out).toBe('');

    const r = sh(['sh', load], ns);
    expect(r.status).toBe(1);
    expect(r.out).toContain(`skipped the broken drop-in ${join(dropins, 'b-broken.nft')}`);
    const rules = sh(['nft', 'list', 'chain', 'inet', 'float', 'input'], ns).out;
    expect(rules).toContain('policy drop');
    expect(rules).toContain('comment "a-good"');
    expect(rules).toContain('comment "c-good"');
    expect(rules).not.toContain('8082');

    // Once fixed, it loads everything and succeeds.
    writeFileSync(join(dropins, 'b-broken.nft'), 'add rule inet float input tcp dport 8082 accept comment "b-fixed"\n');
    const again = sh(['sh', load], ns);
    expect(again.status, again.out).toBe(0);
    expect(sh(['nft', 'list', 'chain', 'inet', 'float', 'input'], ns).out).toContain('comment "b-fixed"');
  });

  it('ssh_allowed_from restricts port 22 to its CIDRs; empty leaves it open', () => {
    const open = setUp();
    expect(readFileSync(open.main, 'utf8')).toMatch(/^\s*tcp dport 22 accept$/m);
    const { main } = setUp({ ssh_allowed_from: ['192.0.2.0/24', '10.1.2.3/32', '2001:db8::/32'] });
    const text = readFileSync(main, 'utf8');
    expect(text).not.toMatch(/^\s*tcp dport 22 accept$/m);
    expect(text).toContain('ip saddr { 192.0.2.0/24, 10.1.2.3/32 } tcp dport 22 accept');
    expect(text).toContain('ip6 saddr { 2001:db8::/32 } tcp dport 22 accept');
    const r = sh(['nft', '-c', '-f', main]);
    expect(r.status, r.out).toBe(0);
  });
});
