// float run's choice of Ansible strategy: the operator's choice (environment or
// ansible.cfg) wins; otherwise ansible-mitogen's mitogen_linear when the Python
// that runs ansible-playbook has it, else Ansible's default.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cfgDefault, chooseInterpreter, chooseStrategy, hostKeyCheckingArgs, readAnsibleCfg } from '../../src/ansible/strategy.js';

/** As float run asks: the ansible.cfg Ansible would read from `cwd`, then the choice. */
const strategyAt = (cwd: string, env: NodeJS.ProcessEnv, hosts?: Array<Record<string, unknown>>) => chooseStrategy(readAnsibleCfg(cwd, env), env, hosts);
const interpreterAt = (cwd: string, env: NodeJS.ProcessEnv) => chooseInterpreter(readAnsibleCfg(cwd, env), env);

const dir = mkdtempSync(join(tmpdir(), 'float-strategy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A directory holding an `ansible-playbook` whose first line names `interpreter`. */
function fakeAnsible(name: string, interpreter: string): string {
  const bin = join(dir, name);
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'ansible-playbook'), `#!${interpreter}\n`);
  chmodSync(join(bin, 'ansible-playbook'), 0o755);
  return bin;
}
const HOME = join(dir, 'home');
mkdirSync(HOME, { recursive: true });

describe('cfgDefault', () => {
  it('reads a key from [defaults] only', () => {
    expect(cfgDefault('[defaults]\nforks = 10\nstrategy = free\n', 'strategy')).toBe('free');
    expect(cfgDefault('[defaults]\nstrategy: linear\n', 'strategy')).toBe('linear');
    expect(cfgDefault('[ssh_connection]\nstrategy = free\n', 'strategy')).toBeUndefined();
    expect(cfgDefault('[defaults]\nforks = 10\n', 'strategy')).toBeUndefined();
    expect(cfgDefault('[defaults]\nstrategy_plugins = x\n', 'strategy')).toBeUndefined();
  });
});

describe('hostKeyCheckingArgs', () => {
  it('reads StrictHostKeyChecking from either argument variable, in any spelling ssh takes', () => {
    expect(hostKeyCheckingArgs([{ ansible_ssh_extra_args: '-o "StrictHostKeyChecking no"' }])).toBe('no');
    expect(hostKeyCheckingArgs([{ ansible_ssh_common_args: '-o stricthostkeychecking=No' }])).toBe('no');
    expect(hostKeyCheckingArgs([{ ansible_ssh_common_args: '-o StrictHostKeyChecking=accept-new' }])).toBe('mixed');
    expect(hostKeyCheckingArgs([{ ansible_ssh_common_args: '{{ my_args }}' }])).toBe('mixed');
    expect(hostKeyCheckingArgs([{ ansible_ssh_common_args: '-o ConnectTimeout=5' }])).toBeUndefined();
    expect(hostKeyCheckingArgs([])).toBeUndefined();
  });
});

describe('chooseInterpreter', () => {
  const cwd = join(dir, 'interp');
  mkdirSync(cwd, { recursive: true });
  it("is Debian's python3 unless the operator chose one", () => {
    expect(interpreterAt(cwd, { HOME })).toEqual({ ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3' });
    expect(interpreterAt(cwd, { HOME, ANSIBLE_PYTHON_INTERPRETER: '/opt/py' })).toEqual({});
    writeFileSync(join(cwd, 'ansible.cfg'), '[defaults]\ninterpreter_python = auto_silent\n');
    expect(interpreterAt(cwd, { HOME })).toEqual({});
  });
});

describe('chooseStrategy', () => {
  const cwd = join(dir, 'cfg');
  mkdirSync(cwd, { recursive: true });
  const debian = fakeAnsible('debian', '/usr/bin/python3');

  it('takes mitogen_linear from the Debian package when nothing else is chosen', () => {
    const c = strategyAt(cwd, { PATH: debian, HOME });
    expect(c.env.ANSIBLE_STRATEGY).toBe('mitogen_linear');
    expect(c.env.ANSIBLE_STRATEGY_PLUGINS).toBe('/usr/lib/python3/dist-packages/ansible_mitogen/plugins/strategy');
    expect(c.message).toContain('mitogen_linear');
  });

  it('keeps ANSIBLE_STRATEGY from the environment', () => {
    const c = strategyAt(cwd, { PATH: debian, HOME, ANSIBLE_STRATEGY: 'free' });
    expect(c.env).toEqual({});
    expect(c.message).toBe('Ansible strategy free (ANSIBLE_STRATEGY)');
  });

  it("keeps the strategy of the ansible.cfg Ansible reads (./ansible.cfg, then ANSIBLE_CONFIG's)", () => {
    const local = join(dir, 'local');
    mkdirSync(local, { recursive: true });
    writeFileSync(join(local, 'ansible.cfg'), '[defaults]\nstrategy = linear\n');
    expect(strategyAt(local, { PATH: debian, HOME }).env).toEqual({});
    writeFileSync(join(dir, 'other.cfg'), '[defaults]\nstrategy = free\n');
    const c = strategyAt(cwd, { PATH: debian, HOME, ANSIBLE_CONFIG: join(dir, 'other.cfg') });
    expect(c.env).toEqual({});
    expect(c.message).toContain('free');
    // Positive control: an ansible.cfg without a strategy leaves the choice to float.
    writeFileSync(join(local, 'ansible.cfg'), '[defaults]\nforks = 10\n');
    expect(strategyAt(local, { PATH: debian, HOME }).env.ANSIBLE_STRATEGY).toBe('mitogen_linear');
  });

  it("keeps the hosts' own StrictHostKeyChecking, which mitogen would override", () => {
    const off = { ansible_ssh_common_args: '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null' };
    // Every host turns it off: mitogen_linear, told the same through host_key_checking.
    const all = strategyAt(cwd, { PATH: debian, HOME }, [off, off]);
    expect(all.env.ANSIBLE_STRATEGY).toBe('mitogen_linear');
    expect(all.env.ANSIBLE_HOST_KEY_CHECKING).toBe('False');
    // Only some: Ansible's own strategy, where each host's arguments keep working.
    const some = strategyAt(cwd, { PATH: debian, HOME }, [off, {}]);
    expect(some.env).toEqual({});
    expect(some.message).toContain('StrictHostKeyChecking');
    // None: mitogen_linear with Ansible's host key checking as configured.
    const none = strategyAt(cwd, { PATH: debian, HOME }, [{}, { ansible_ssh_extra_args: '-o ConnectTimeout=5' }]);
    expect(none.env.ANSIBLE_STRATEGY).toBe('mitogen_linear');
    expect(none.env.ANSIBLE_HOST_KEY_CHECKING).toBeUndefined();
  });

  it('falls back to the default when the interpreter has no ansible-mitogen', () => {
    // /bin/true prints nothing: no ansible-mitogen found, Ansible's default stands.
    const c = strategyAt(cwd, { PATH: fakeAnsible('other', '/bin/true'), HOME });
    expect(c.env).toEqual({});
    expect(c.message).toContain('linear');
  });
});
