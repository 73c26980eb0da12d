// An ssh command line that reaches a host the way Ansible's ssh connection does,
// built from the same inventory variables (ansible_host, ansible_port,
// ansible_user, ansible_ssh_private_key_file or ansible_private_key_file,
// ansible_ssh_common_args, ansible_ssh_extra_args), for the commands that talk to
// one host directly (float logs, float overlay status --live). Pure: a builder of
// argument vectors.
import { isAbsolute, resolve, dirname } from 'node:path';
import { FloatUserError } from '../config/diagnostics.js';
import type { Model } from '../config/load.js';
import type { Host } from '../config/schema/host.js';

const CONNECTION_VARS = [
  'ansible_host',
  'ansible_port',
  'ansible_user',
  'ansible_ssh_private_key_file',
  'ansible_private_key_file',
  'ansible_ssh_common_args',
  'ansible_ssh_extra_args',
] as const;

/** A host's connection variables as Ansible would merge them: all < its groups (in order) < the host. */
export function connectionVars(model: Model, h: Host): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const layers = [model.globals as Record<string, unknown>, ...h.groups.map((g) => model.groupVars[g] ?? {}), h.vars];
  for (const layer of layers) for (const k of CONNECTION_VARS) if (layer[k] !== undefined && layer[k] !== null) out[k] = layer[k];
  return out;
}

/** Splits a command-line string as a POSIX shell would (quotes and backslashes; no expansions). */
export function shellWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new Error('unterminated single quote');
      cur += s.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      i++;
      for (; i < s.length && s[i] !== '"'; i++) {
        if (s[i] === '\\' && i + 1 < s.length && '"\\$`\n'.includes(s[i + 1])) i++;
        cur += s[i];
      }
      if (i >= s.length) throw new Error('unterminated double quote');
      inWord = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

/** A word for a remote shell: single-quoted unless it is plainly safe. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * `ssh [options] [user@]address -- COMMAND` for host `h`; `options` (ssh options of
 * the caller's, such as a connect timeout) come before the inventory's. A variable
 * holding a Jinja expression cannot be evaluated here and is refused (F2132) rather
 * than passed to ssh as it is.
 */
export function sshArgv(model: Model, h: Host, remoteCommand: string, options: string[] = []): string[] {
  const v = connectionVars(model, h);
  for (const [k, val] of Object.entries(v)) {
    if (typeof val === 'string' && val.includes('{{')) {
      throw new FloatUserError(`host '${h.name}': ${k} is a Jinja expression (${JSON.stringify(val)}), which float cannot evaluate to reach the host over ssh; give it a plain value`, 'F2132');
    }
  }
  const address = String(v.ansible_host ?? h.ips[0] ?? h.name);
  const argv = ['ssh', '-o', 'BatchMode=yes', ...options];
  if (v.ansible_port !== undefined) argv.push('-p', String(v.ansible_port));
  // Both names are Ansible's; ansible_ssh_private_key_file wins, as in Ansible.
  const keyFile = v.ansible_ssh_private_key_file ?? v.ansible_private_key_file;
  if (keyFile !== undefined) {
    const key = String(keyFile);
    argv.push('-i', isAbsolute(key) ? key : resolve(dirname(model.configPath), key));
  }
  for (const k of ['ansible_ssh_common_args', 'ansible_ssh_extra_args'] as const) {
    if (v[k] === undefined) continue;
    try {
      argv.push(...shellWords(String(v[k])));
    } catch (e) {
      throw new FloatUserError(`host '${h.name}': ${k}: ${(e as Error).message}`, 'F2132');
    }
  }
  const target = v.ansible_user !== undefined ? `${String(v.ansible_user)}@${address}` : address;
  argv.push('--', target, remoteCommand);
  return argv;
}
