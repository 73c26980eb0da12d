// float status's report, pure: matching series to scheduled instances by labels,
// an instance down when any of its targets is, and terminal-safe alert text.
import { describe, expect, it } from 'vitest';
import { formatStatus, statusReport } from '../../src/status/report.js';

const sched = { assignments: { web: ['be1', 'be2'], db: ['be1'] }, masters: {}, errors: [] };
const up = (labels: Record<string, string>, v: '0' | '1') => ({ metric: { __name__: 'up', ...labels }, value: [0, v] as [number, string] });

describe('statusReport', () => {
  it('matches by service and host labels (FQDN or instance with port), down when any target is', () => {
    const r = statusReport(sched, ['db', 'web'], [
      up({ service: 'web', host: 'be1.infra.example.com' }, '1'),
      up({ service: 'web', host: 'be2' }, '1'),
      up({ float_service: 'web', instance: 'be2:9100' }, '0'),
      up({ service: 'node', host: 'be1' }, '0'),
    ], []);
    expect(r.services).toEqual([
      { name: 'db', instances: [{ host: 'be1', state: 'unknown', targets: 0, targets_up: 0 }] },
      { name: 'web', instances: [{ host: 'be1', state: 'up', targets: 1, targets_up: 1 }, { host: 'be2', state: 'down', targets: 2, targets_up: 1 }] },
    ]);
    expect(r.other_targets.map((t) => `${t.service}@${t.host}:${t.up}`)).toEqual(['node@be1:false']);
    expect(r.summary).toEqual({ instances: 3, up: 1, down: 1, unknown: 1, alerts: 0 });
  });

  it('prints alerts without control characters', () => {
    const r = statusReport(sched, ['web'], [], [{ metric: { alertname: 'Bad\u001b[2JAlert', alertstate: 'firing', service: 'web', host: 'be1' }, value: [0, '1'] }]);
    const text = formatStatus(r);
    expect(text).toContain('  Bad?[2JAlert  service=web host=be1\n');
    expect(text).not.toContain('\u001b');
  });
});
