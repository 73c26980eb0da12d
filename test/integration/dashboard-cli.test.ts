// `float dashboard` and `float compile` through the real CLI: the site written to a
// directory of its own (replaced whole on the next call, refused over anything
// else), and the same site as the inventory's .dashboard.tar.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, baseTree, writeTree } from '../helpers/tree.js';

const FLOAT = join(REPO_ROOT, 'bin/float.mjs');
const float = (...args: string[]) => spawnSync(process.execPath, [FLOAT, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
const SERVICES = `include:\n  - ${JSON.stringify(join(REPO_ROOT, 'services.default.yml'))}\nweb:\n  scheduling_group: backend\n`;

describe('float dashboard', () => {
  it('writes the site to --out, replaces it whole next time, and refuses a directory it did not write (F2150)', () => {
    const cfg = writeTree(baseTree({ 'services.yml': SERVICES }), 'float-dashboard-cli-');
    const out = join(mkdtempSync(join(tmpdir(), 'float-dashboard-out-')), 'site');
    const r = float('dashboard', '--config', join(cfg, 'config.yml'), '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote the dashboard`);
    expect(readdirSync(join(out, 'services')).sort()).toEqual(['acme.html', 'alertmanager.html', 'frontend.html', 'log-collector.html', 'prober.html', 'prometheus.html', 'web.html']);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain('href="services/web.html"');
    // Without web, its page is gone: the directory is replaced, not added to.
    writeFileSync(join(cfg, 'services.yml'), `include:\n  - ${JSON.stringify(join(REPO_ROOT, 'services.default.yml'))}\n`);
    expect(float('dashboard', '--config', join(cfg, 'config.yml'), '--out', out).status).toBe(0);
    expect(existsSync(join(out, 'services', 'web.html'))).toBe(false);
    expect(existsSync(join(out, 'services', 'frontend.html'))).toBe(true);
    // A directory with anything else in it is left alone.
    const other = mkdtempSync(join(tmpdir(), 'float-not-a-dashboard-'));
    writeFileSync(join(other, 'precious.txt'), 'keep me\n');
    const refused = float('dashboard', '--config', join(cfg, 'config.yml'), '--out', other);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('[F2150]');
    expect(refused.stderr).not.toContain('internal error');
    expect(readdirSync(other)).toEqual(['precious.txt']);
    // The default place is .float/dashboard next to config.yml.
    expect(float('dashboard', '--config', join(cfg, 'config.yml')).status).toBe(0);
    expect(existsSync(join(cfg, '.float', 'dashboard', 'index.html'))).toBe(true);
  });

  it('float compile puts the same site into the inventory as .dashboard.tar', () => {
    const cfg = writeTree(baseTree({ 'services.yml': SERVICES }), 'float-dashboard-compile-');
    expect(float('compile', '--config', join(cfg, 'config.yml')).status).toBe(0);
    const x = join(mkdtempSync(join(tmpdir(), 'float-dashboard-x-')), 'x');
    mkdirSync(x);
    const t = spawnSync('tar', ['-xf', join(cfg, '.float', 'inventory', '.dashboard.tar'), '-C', x], { encoding: 'utf8' });
    expect(t.status, t.stderr).toBe(0);
    const out = join(cfg, 'site');
    expect(float('dashboard', '--config', join(cfg, 'config.yml'), '--out', out).status).toBe(0);
    for (const f of ['index.html', 'graph.html', 'services/web.html', 'hosts/host2.html', 'live.js', 'style.css']) {
      expect(readFileSync(join(x, f), 'utf8'), f).toBe(readFileSync(join(out, f), 'utf8'));
    }
    // ansible-inventory reads the inventory without a word about the archive.
    const inventory = (dir: string) =>
      spawnSync('ansible-inventory', ['-i', dir, '--list'], { encoding: 'utf8', env: { ...process.env, ANSIBLE_INVENTORY_ENABLED: 'yaml' } });
    const inv = inventory(join(cfg, '.float', 'inventory'));
    if (inv.error === undefined) {
      expect(inv.status, inv.stderr).toBe(0);
      expect(inv.stderr).not.toContain('dashboard');
      // The positive control: under a name without the dot, the same archive is read as a source, and said so.
      const copy = join(mkdtempSync(join(tmpdir(), 'float-dashboard-inv-')), 'inventory');
      cpSync(join(cfg, '.float', 'inventory'), copy, { recursive: true });
      renameSync(join(copy, '.dashboard.tar'), join(copy, 'dashboard.tar'));
      expect(inventory(copy).stderr).toContain('dashboard.tar');
    }
  });

  it('float check warns about a dependency naming a service that is not configured (F2153), not about one that is', () => {
    const cfg = writeTree(
      baseTree({
        'services.yml': `${SERVICES}  annotations:\n    dependencies:\n      - client: app\n        server: ghost/x\n      - client: app\n        server: frontend/nginx\n`,
      }),
      'float-dashboard-check-',
    );
    const r = float('check', '--config', join(cfg, 'config.yml'));
    expect(r.status, r.stderr).toBe(0);
    const warnings = r.stderr.trim().split('\n').filter((l) => l.includes('[F2153]'));
    expect(warnings).toEqual([
      `${join(cfg, 'services.yml')}:8:17: warning: service 'web': the server of annotations.dependencies[0] ("ghost/x") names the service "ghost", which is not configured (or not enabled) [F2153]`,
    ]);
  });
});
