// float overlay assign | status: the private network's addresses and keys.
// `assign` writes the missing addresses of the hosts in an overlay's groups into
// the hosts file; `status` prints each member's address and key fingerprint, and
// with --live the latest WireGuard handshake with each peer, asked over ssh.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { sshArgv } from '../ansible/ssh.js';
import { FloatUserError, formatDiagnostic, hasErrors } from '../config/diagnostics.js';
import { withOverlayAddresses } from '../config/hosts-edit.js';
import { loadConfig, type Model } from '../config/load.js';
import { assignAddresses, type Assignment } from '../config/overlay.js';
import type { Host } from '../config/schema/host.js';
import { at } from '../config/source.js';
import { writeFileAtomic } from '../credentials/atomic.js';
import { overlayMembers, readWireguardPublicKeys, wireguardFingerprint } from '../credentials/wireguard.js';
import { withConfigLock } from '../lock.js';
import type { SetExitCode } from './commands.js';
import { configOption, noWaitOption } from './options.js';

function load(configPath: string): Model {
  const { model, diagnostics } = loadConfig(configPath);
  if (!model || hasErrors(diagnostics)) throw new FloatUserError(diagnostics.filter((d) => d.severity === 'error'));
  return model;
}

/** Assigns and writes; returns what was written, by file. */
export function assignAndWrite(configPath: string): { assigned: Assignment[]; files: string[] } {
  const model = load(configPath);
  const { assigned, errors } = assignAddresses(model.globals.net_overlays, model.hosts);
  if (errors.length > 0) throw new FloatUserError(errors.map((e) => ({ code: 'F2102' as const, severity: 'error' as const, message: e.message, subject: e.overlay })));
  const byFile = new Map<string, Assignment[]>();
  for (const a of assigned) {
    const src = at(model.sources.hosts, ['hosts', a.host]);
    if (!src) throw new FloatUserError(`host '${a.host}' is not written under 'hosts' in a hosts file`, 'F2102');
    if (src.file.decrypted) throw new FloatUserError(`host '${a.host}' is written in an encrypted file (${src.file.path}): add ip_${a.overlay}: ${a.address} there by hand`, 'F2102');
    const list = byFile.get(src.file.path) ?? [];
    list.push(a);
    byFile.set(src.file.path, list);
  }
  // Every file's new text first, then the writes: an error leaves every file as it was.
  const texts = new Map<string, string>();
  for (const [path, list] of byFile) {
    try {
      texts.set(path, withOverlayAddresses(path, readFileSync(path, 'utf8'), list));
    } catch (err) {
      throw new FloatUserError((err as Error).message, 'F2102');
    }
  }
  for (const [path, text] of texts) writeFileAtomic(path, text, 0o644);
  return { assigned, files: [...texts.keys()] };
}

interface StatusRow {
  overlay: string;
  host: string;
  address: string;
  fingerprint: string | null;
  /** --live: peer host -> seconds since the latest handshake (null: never), or an error. */
  handshakes?: Record<string, number | null>;
  error?: string;
}

/** Over ssh (the connection Ansible uses), `wg show IFACE latest-handshakes`: peer host -> seconds since, or why not. */
function liveHandshakes(model: Model, h: Host, iface: string, hostOfKey: Map<string, string>, now?: number): Pick<StatusRow, 'handshakes' | 'error'> {
  let ssh: string;
  let args: string[];
  try {
    [ssh, ...args] = sshArgv(model, h, `wg show ${iface} latest-handshakes`, ['-o', 'ConnectTimeout=5']);
  } catch (err) {
    return { error: (err as Error).message };
  }
  const r = spawnSync(ssh, args, { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) return { error: (r.stderr || r.error?.message || `ssh exited ${r.status}`).trim().split('\n').pop() };
  const at = now ?? Math.floor(Date.now() / 1000);
  const handshakes: Record<string, number | null> = {};
  for (const line of r.stdout.split('\n')) {
    const [key, when] = line.trim().split(/\s+/);
    if (!key) continue;
    const t = Number(when);
    handshakes[hostOfKey.get(key) ?? key] = t > 0 ? Math.max(0, at - t) : null;
  }
  return { handshakes };
}

export function overlayStatus(configPath: string, opts: { live?: boolean; now?: number } = {}): StatusRow[] {
  const model = load(configPath);
  const keys = readWireguardPublicKeys(model.config.credentials_dir, overlayMembers(model));
  const hostOfKey = new Map(Object.entries(keys).map(([h, k]) => [k, h]));
  const rows: StatusRow[] = [];
  for (const o of model.globals.net_overlays) {
    for (const h of model.hosts.filter((x) => x.overlays[o.name] !== undefined)) {
      const row: StatusRow = { overlay: o.name, host: h.name, address: h.overlays[o.name], fingerprint: keys[h.name] ? wireguardFingerprint(keys[h.name]) : null };
      if (opts.live) Object.assign(row, liveHandshakes(model, h, o.name, hostOfKey, opts.now));
      rows.push(row);
    }
  }
  return rows;
}

function formatStatus(rows: StatusRow[]): string {
  const lines: string[] = [];
  const wH = Math.max(4, ...rows.map((r) => r.host.length));
  const wA = Math.max(7, ...rows.map((r) => r.address.length));
  let current = '';
  for (const r of rows) {
    if (r.overlay !== current) {
      current = r.overlay;
      lines.push(`overlay ${r.overlay}:`, `  ${'HOST'.padEnd(wH)}  ${'ADDRESS'.padEnd(wA)}  KEY`);
    }
    lines.push(`  ${r.host.padEnd(wH)}  ${r.address.padEnd(wA)}  ${r.fingerprint ?? '(no key yet: float init-credentials)'}`);
    if (r.error) lines.push(`    unreachable: ${r.error}`);
    if (r.handshakes) {
      const peers = Object.entries(r.handshakes).map(([p, s]) => `${p} ${s === null ? 'never' : `${s}s ago`}`);
      lines.push(`    latest handshakes: ${peers.length ? peers.join(', ') : 'no peers'}`);
    }
  }
  return lines.join('\n') + (lines.length ? '\n' : 'no host is on an overlay\n');
}

export function register(program: Command, setExitCode: SetExitCode): void {
  const overlay = program.command('overlay').description('the private network (net_overlays): assign addresses, show status');
  overlay
    .command('assign')
    .description("write an address into the hosts file for every host in an overlay's groups that has none (existing addresses never change)")
    .addOption(configOption())
    .addOption(noWaitOption())
    .action(async (opts: { config: string; wait: boolean }) => {
      const { assigned, files } = await withConfigLock(opts.config, { command: 'float overlay assign', noWait: !opts.wait }, () => assignAndWrite(opts.config));
      for (const a of assigned) process.stdout.write(`${a.host}: ip_${a.overlay}: ${a.address}\n`);
      process.stdout.write(assigned.length ? `wrote ${assigned.length} address${assigned.length === 1 ? '' : 'es'} into ${files.join(', ')}\n` : 'every member has its address\n');
    });
  overlay
    .command('status')
    .description("print each overlay member's address and WireGuard key fingerprint; --live asks each host (ssh, wg show) for its latest handshakes")
    .addOption(configOption())
    .option('--live', 'ask the hosts over ssh for the latest handshake with each peer')
    .option('--json', 'print JSON')
    .action((opts: { config: string; live?: boolean; json?: boolean }) => {
      const rows = overlayStatus(opts.config, { live: opts.live });
      process.stdout.write(opts.json ? JSON.stringify(rows) + '\n' : formatStatus(rows));
      if (rows.some((r) => r.error)) {
        process.stderr.write(formatDiagnostic({ code: 'F2104', severity: 'error', message: `cannot ask ${rows.filter((r) => r.error).map((r) => r.host).join(', ')}` }) + '\n');
        setExitCode(1);
      }
    });
}
