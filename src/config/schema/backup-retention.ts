// `backup_retention` (global, and per dataset): which restic snapshots the prune job
// keeps. Each key is a restic duration (y, m for months, d, h: "2h", "14d", "1y6m"),
// measured back from the newest snapshot of the dataset, as restic's
// `forget --keep-within*` options do.
import { z } from 'zod';

const resticDuration = z.string().regex(/^(\d+[ymdh])+$/, { message: 'expected a restic duration like 2h, 48h, 14d, 3m or 1y (y, m = months, d, h)' });

export const backupRetention = z.strictObject({
  /** Every snapshot this close to the newest: --keep-within. */
  within: resticDuration.optional(),
  /** The newest snapshot of each hour, day, week, month, year within the duration: --keep-within-hourly, … */
  hourly: resticDuration.optional(),
  daily: resticDuration.optional(),
  weekly: resticDuration.optional(),
  monthly: resticDuration.optional(),
  yearly: resticDuration.optional(),
});

export type BackupRetention = z.infer<typeof backupRetention>;

/** The default: every snapshot of the last 2 hours, hourly for 48 hours, daily for 14 days, weekly for 12 weeks. */
export const DEFAULT_BACKUP_RETENTION: BackupRetention = { within: '2h', hourly: '48h', daily: '14d', weekly: '84d' };

const FLAGS: Array<[keyof BackupRetention, string]> = [
  ['within', '--keep-within'],
  ['hourly', '--keep-within-hourly'],
  ['daily', '--keep-within-daily'],
  ['weekly', '--keep-within-weekly'],
  ['monthly', '--keep-within-monthly'],
  ['yearly', '--keep-within-yearly'],
];

/** restic forget arguments for a retention policy. */
export function retentionArgs(r: BackupRetention): string[] {
  return FLAGS.flatMap(([k, flag]) => (r[k] ? [flag, r[k]!] : []));
}
