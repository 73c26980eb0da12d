// float logs: searches the central logs on a log collector host over SSH (the
// collector's float-logs-query does the search) and prints the matching lines,
// oldest first; --follow keeps printing new ones.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Command } from 'commander';
import { FloatUserError, formatDiagnostic } from '../config/diagnostics.js';
import { LOG_COLLECTOR_SERVICE } from '../config/logs.js';
import { sshArgv, shellQuote } from '../ansible/ssh.js';
import { plan } from '../plan.js';
import type { SetExitCode } from './commands.js';
import { configOption } from './options.js';

export interface LogsOptions {
  host?: string[];
  service?: string[];
  since?: string;
  follow?: boolean;
  json?: boolean;
  collector?: string;
}

const SINCE_RE = /^(\d+[smhdw]|\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?)$/;

/** The command the collector runs: float-logs-query with the filters, every word quoted for its shell. */
export function queryCommand(opts: LogsOptions, pattern: string | undefined): string {
  const words = ['float-logs-query'];
  for (const h of opts.host ?? []) words.push('--host', h);
  for (const s of opts.service ?? []) words.push('--service', s);
  if (opts.since) words.push('--since', opts.since);
  if (opts.follow) words.push('--follow');
  if (opts.json) words.push('--json');
  if (pattern !== undefined) words.push('--', pattern);
  return words.map(shellQuote).join(' ');
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command, setExitCode: SetExitCode): void {
  program
    .command('logs')
    .description('search the central logs on the log collector (over SSH) and print the matching lines, oldest first')
    .argument('[pattern]', 'a regular expression (Python syntax) searched in each message')
    .addOption(configOption())
    .option('--host <host>', 'only lines from this host (repeatable)', collect)
    .option('--service <service>', 'only lines of this service (repeatable)', collect)
    .option('--since <when>', 'only lines logged since then: 30s, 10m, 2h, 3d, 1w, or an ISO 8601 time')
    .option('-f, --follow', 'keep printing matching lines as they arrive')
    .option('--json', 'print each line as a JSON object (time, received, host, program, service, container, unit, severity, facility, msg)')
    .option('--collector <host>', 'the log collector host to ask (default: the first one)')
    .action(async (pattern: string | undefined, opts: LogsOptions & { config: string }) => {
      const p = plan(opts.config);
      for (const d of p.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      const hostNames = p.model.hosts.map((h) => h.name);
      for (const h of opts.host ?? []) {
        if (!hostNames.includes(h)) throw new FloatUserError(`--host ${JSON.stringify(h)}: no such host (hosts: ${hostNames.join(', ')})`, 'F2040');
      }
      const services = p.model.services.map((s) => s.name);
      for (const s of opts.service ?? []) {
        if (!services.includes(s)) throw new FloatUserError(`--service ${JSON.stringify(s)}: no such service (services: ${services.join(', ')})`, 'F2040');
      }
      if (opts.since !== undefined && !SINCE_RE.test(opts.since)) {
        throw new FloatUserError(`--since ${JSON.stringify(opts.since)}: expected a duration (30s, 10m, 2h, 3d, 1w) or an ISO 8601 time`, 'F2040');
      }
      const collectors = p.schedule.assignments[LOG_COLLECTOR_SERVICE] ?? [];
      if (collectors.length === 0) throw new FloatUserError(`no host runs the ${LOG_COLLECTOR_SERVICE} service: there are no central logs to search`, 'F2132');
      const target = opts.collector ?? collectors[0];
      if (!collectors.includes(target)) throw new FloatUserError(`--collector ${JSON.stringify(target)}: not a log collector host (they are: ${collectors.join(', ')})`, 'F2040');
      const host = p.model.hosts.find((h) => h.name === target)!;
      const [cmd, ...args] = sshArgv(p.model, host, queryCommand(opts, pattern));
      const code = await new Promise<number>((done) => {
        const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
        child.on('error', (e) => {
          process.stderr.write(`error: cannot run ssh: ${e.message} [F2041]\n`);
          done(127);
        });
        child.on('exit', (c, sig) => done(c ?? 128 + (sig ? (constants.signals[sig] ?? 1) : 1)));
      });
      if (code === 255) process.stderr.write(`error: ssh to the log collector ${target} failed [F2132]\n`);
      setExitCode(code);
    });
}
