// float restore SERVICE/DATASET [--snapshot ID] [--host H]: a restore on purpose, run
// on a host by the backup agent (float-base-backup), over SSH with Ansible.
import type { Command } from 'commander';
import { FloatUserError, formatDiagnostic } from '../config/diagnostics.js';
import { withConfigLock } from '../lock.js';
import { prepare } from '../prepare.js';
import { datasetRows, onHost } from './backups.js';
import type { SetExitCode } from './commands.js';
import { configOption } from './options.js';

const SNAPSHOT_ID = /^[0-9a-f]{8,64}$/;

export function register(program: Command, _setExitCode: SetExitCode): void {
  registerRestore(program);
}

function registerRestore(program: Command): void {
  program
    .command('restore')
    .description(
      "restore a dataset on purpose on a host that runs it: the service's units are stopped, a directory dataset's current data is moved aside (PATH.before-restore-TIME), the snapshot is restored, the units are started again",
    )
    .addOption(configOption())
    .argument('<dataset>', 'SERVICE/DATASET')
    .option('--snapshot <id>', 'the snapshot (default: the latest of the dataset)')
    .option('--host <host>', 'the host (default: the first host running the dataset)')
    .action(async (id: string, opts: { config: string; snapshot?: string; host?: string }) => {
      if (opts.snapshot !== undefined && !SNAPSHOT_ID.test(opts.snapshot)) throw new FloatUserError(`--snapshot ${opts.snapshot}: expected a snapshot id (8 to 64 hexadecimal digits)`, 'F2040');
      await withConfigLock(opts.config, { command: 'float restore' }, async () => {
        const prepared = await prepare(opts.config);
        for (const d of prepared.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
        if (!prepared.plan.model.globals.backup_repository_uri) throw new FloatUserError('backup_repository_uri is not set: there is nothing to restore from', 'F2040');
        const rows = datasetRows(prepared.plan);
        const row = rows.find((r) => r.id === id);
        if (!row) throw new FloatUserError(`no dataset ${id}; datasets: ${rows.map((r) => r.id).join(', ') || 'none'}`, 'F2040');
        const host = opts.host ?? row.hosts[0];
        if (!host) throw new FloatUserError(`dataset ${id} runs on no host`, 'F2040');
        if (!row.hosts.includes(host)) throw new FloatUserError(`dataset ${id} does not run on ${host} (it runs on ${row.hosts.join(', ')})`, 'F2040');
        // The agent finds the host's job by its id (SERVICE/DATASET) as by its unit name.
        const out = onHost(prepared, opts.config, host, ['restore', id, ...(opts.snapshot ? ['--snapshot', opts.snapshot] : [])]);
        const r = JSON.parse(out) as { snapshot: string; previous_data?: string | null };
        process.stdout.write(`restored ${id} on ${host} from snapshot ${r.snapshot}${r.previous_data ? `; the data it replaced is in ${r.previous_data}` : ''}\n`);
      });
    });
}
