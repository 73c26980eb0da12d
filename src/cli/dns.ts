// float dns: print every public DNS record float serves, without touching anything.
import type { Command } from 'commander';
import { formatDiagnostic } from '../config/diagnostics.js';
import { columns } from '../core/columns.js';
import { makeContext } from '../inventory/context.js';
import { publicDnsRecords, type DnsRecord } from '../inventory/public-dns.js';
import { plan } from '../plan.js';
import type { SetExitCode } from './commands.js';
import { configOption } from './options.js';

const HEAD = ['FQDN', 'TYPE', 'VALUE', 'TTL', 'PURPOSE'];

/** The records as an aligned table, one line per record (columns separated by two spaces). */
function dnsTable(records: DnsRecord[]): string {
  return columns([HEAD, ...records.map((r) => [r.fqdn, r.type, r.value, String(r.ttl), r.purpose])]);
}

export function register(program: Command, _setExitCode: SetExitCode): void {
  program
    .command('dns')
    .description('print every public DNS record float serves (FQDN, type, value, TTL, purpose); changes nothing')
    .addOption(configOption())
    .option('--json', 'print the records as a JSON array of {fqdn, type, value, ttl, purpose}')
    .action((opts: { config: string; json?: boolean }) => {
      const p = plan(opts.config);
      for (const d of p.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      const records = publicDnsRecords(makeContext(p.model, p.schedule));
      if (records.length === 0) process.stderr.write('no host runs the frontend service: float serves no public DNS records\n');
      process.stdout.write(opts.json ? JSON.stringify(records, null, 2) + '\n' : dnsTable(records));
    });
}
