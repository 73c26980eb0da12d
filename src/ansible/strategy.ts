// Which Ansible strategy `float run` uses. Ansible's own linear strategy runs every
// task as a fresh Python process on every host (unpacking and compiling the module
// and its libraries each time: about 0.2 s of a host's CPU per task here); the
// mitogen_linear strategy of ansible-mitogen (Debian package ansible-mitogen) keeps
// one interpreter per host for the whole run, with the same task order and results.
// float picks mitogen_linear when it is installed for the Python that runs
// ansible-playbook and the operator has not chosen a strategy: ANSIBLE_STRATEGY in
// the environment, or `strategy` in the ansible.cfg Ansible reads, always wins.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';

export interface StrategyChoice {
  /** Variables for ansible-playbook's environment (empty: Ansible's own choice stands). */
  env: Record<string, string>;
  /** One line for the operator: which strategy, and why. */
  message: string;
}

/** An ansible.cfg: where it is, and its text. */
export interface AnsibleCfg {
  path: string;
  text: string;
}

/** The ansible.cfg Ansible reads, in its own order: ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg, /etc/ansible/ansible.cfg. */
export function readAnsibleCfg(cwd: string, env: NodeJS.ProcessEnv): AnsibleCfg | undefined {
  const candidates = [env.ANSIBLE_CONFIG, join(resolve(cwd), 'ansible.cfg'), join(env.HOME ?? homedir(), '.ansible.cfg'), '/etc/ansible/ansible.cfg'];
  const path = candidates.find((p): p is string => !!p && existsSync(p));
  return path === undefined ? undefined : { path, text: readFileSync(path, 'utf8') };
}

/** The value an ansible.cfg gives KEY in [defaults], if any. */
export function cfgDefault(text: string, key: string): string | undefined {
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) section = header[1].trim();
    else if (section === 'defaults') {
      const m = /^([A-Za-z_]+)\s*[=:]\s*(.*)$/.exec(line);
      if (m && m[1] === key) return m[2].trim();
    }
  }
  return undefined;
}

/** The interpreter named on the first line of `ansible-playbook` on PATH (python3 when unreadable). */
function ansiblePython(env: NodeJS.ProcessEnv): string {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    const file = join(dir || '.', 'ansible-playbook');
    try {
      accessSync(file, constants.X_OK);
    } catch {
      continue;
    }
    const first = readFileSync(file, 'utf8').slice(0, 200).split('\n')[0];
    const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
    if (!m) return 'python3';
    // "#!/usr/bin/env python3" names the interpreter second.
    return m[1].endsWith('/env') && m[2] ? m[2] : m[1];
  }
  return 'python3';
}

/** ansible-mitogen's strategy plugin directory for that interpreter, if installed. */
function mitogenStrategyDir(env: NodeJS.ProcessEnv): string | undefined {
  const r = spawnSync(
    ansiblePython(env),
    ['-c', "import importlib.util as u; s = u.find_spec('ansible_mitogen'); print(s.submodule_search_locations[0] if s else '')"],
    { encoding: 'utf8', env, timeout: 10_000 },
  );
  const dir = r.status === 0 ? r.stdout.trim() : '';
  const strategies = dir && join(dir, 'plugins', 'strategy');
  return strategies && existsSync(join(strategies, 'mitogen_linear.py')) ? strategies : undefined;
}

/**
 * What the hosts' own ssh arguments (ansible_ssh_common_args, ansible_ssh_extra_args)
 * say about host key checking. ansible-mitogen puts its own StrictHostKeyChecking
 * (from Ansible's host_key_checking) before them, and ssh takes the first, so they
 * would lose; with Ansible's ssh connection they win. 'no': every host turns it off
 * (the same as host_key_checking = False); 'mixed': some hosts set it, or set it to
 * something else, or cannot be read; undefined: no host sets it.
 */
export function hostKeyCheckingArgs(hosts: Array<Record<string, unknown>>): 'no' | 'mixed' | undefined {
  let saysNo = 0;
  let says = 0;
  for (const v of hosts) {
    const args = [v.ansible_ssh_common_args, v.ansible_ssh_extra_args].filter((a) => a !== undefined).map(String).join(' ');
    if (args.includes('{{')) return 'mixed';
    const m = [...args.matchAll(/StrictHostKeyChecking\s*[= ]\s*["']?(\w+)/gi)].map((x) => x[1].toLowerCase());
    if (m.length === 0) continue;
    says++;
    if (m[0] === 'no') saysNo++;
  }
  if (says === 0) return undefined;
  return saysNo === hosts.length ? 'no' : 'mixed';
}

/**
 * `cfg`: the ansible.cfg Ansible reads (readAnsibleCfg). `hosts`: every host's
 * connection variables as Ansible merges them (ssh.ts connectionVars), to keep what
 * their ssh arguments ask of host key checking.
 */
export function chooseStrategy(cfg: AnsibleCfg | undefined, env: NodeJS.ProcessEnv = process.env, hosts: Array<Record<string, unknown>> = []): StrategyChoice {
  if (env.ANSIBLE_STRATEGY) return { env: {}, message: `Ansible strategy ${env.ANSIBLE_STRATEGY} (ANSIBLE_STRATEGY)` };
  const fromCfg = cfg === undefined ? undefined : cfgDefault(cfg.text, 'strategy');
  if (fromCfg) return { env: {}, message: `Ansible strategy ${fromCfg} (${cfg!.path})` };
  const dir = mitogenStrategyDir(env);
  if (!dir) {
    return { env: {}, message: 'Ansible strategy linear (install ansible-mitogen for about twice the speed)' };
  }
  const keys = hostKeyCheckingArgs(hosts);
  if (keys === 'mixed') {
    return {
      env: {},
      message:
        'Ansible strategy linear: some hosts set StrictHostKeyChecking in their ssh arguments (not all of them to no), which ansible-mitogen would override; set it on every host or through host_key_checking to use mitogen_linear',
    };
  }
  return {
    env: {
      ANSIBLE_STRATEGY: 'mitogen_linear',
      ANSIBLE_STRATEGY_PLUGINS: [dir, env.ANSIBLE_STRATEGY_PLUGINS].filter(Boolean).join(delimiter),
      // Every host's ssh arguments turn host key checking off: say so the way mitogen reads it.
      ...(keys === 'no' ? { ANSIBLE_HOST_KEY_CHECKING: 'False' } : {}),
    },
    message: `Ansible strategy mitogen_linear (ansible-mitogen; set ANSIBLE_STRATEGY=linear to use the default)${keys === 'no' ? '; host key checking off, as every host\'s ssh arguments ask' : ''}`,
  };
}

/**
 * The hosts' Python: float manages Debian hosts, whose interpreter is /usr/bin/python3,
 * so Ansible need not discover it on every host at the start of every run (a shell
 * round trip per host before its first task). The operator's
 * ANSIBLE_PYTHON_INTERPRETER or interpreter_python in ansible.cfg wins, and
 * ansible_python_interpreter in the inventory wins over both, as always in Ansible.
 */
export function chooseInterpreter(cfg: AnsibleCfg | undefined, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (env.ANSIBLE_PYTHON_INTERPRETER) return {};
  if (cfg !== undefined && cfgDefault(cfg.text, 'interpreter_python')) return {};
  return { ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3' };
}
