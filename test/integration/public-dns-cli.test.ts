// `float dns` through the real CLI on test/fixtures/frontend: the aligned table of
// every public record, --json, and that it writes nothing.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, baseTree, writeTree } from '../helpers/tree.js';

const FLOAT = join(REPO_ROOT, 'bin/float.mjs');
const FIXTURE = join(REPO_ROOT, 'test/fixtures/frontend');
const float = (...args: string[]) => spawnSync(process.execPath, [FLOAT, ...args], { cwd: REPO_ROOT, encoding: 'utf8' });

/** Every file under dir (relative), sorted. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('float dns', () => {
  it('prints an aligned FQDN/TYPE/VALUE/TTL/PURPOSE table of every record, and writes nothing', () => {
    const before = tree(FIXTURE);
    const r = float('dns', '--config', join(FIXTURE, 'config.yml'));
    expect(r.status, r.stderr).toBe(0);
    expect(tree(FIXTURE)).toEqual(before);
    const lines = r.stdout.trimEnd().split('\n');
    const head = lines[0];
    expect(head.split(/\s+/)).toEqual(['FQDN', 'TYPE', 'VALUE', 'TTL', 'PURPOSE']);
    // Each column starts where its heading does, on every line.
    const starts = ['TYPE', 'VALUE', 'TTL', 'PURPOSE'].map((h) => head.indexOf(h));
    for (const line of lines.slice(1)) {
      for (const s of starts) {
        expect(line[s - 1], line).toBe(' ');
        expect(line[s], line).not.toBe(' ');
      }
    }
    const rows = lines.slice(1).map((l) => [...starts.map((s, i) => l.slice(i === 0 ? 0 : starts[i - 1], s).trim()), l.slice(starts[3]).trim()]);
    // 2 zones: SOA + 2 NS + apex (3) + ns1 (2) + ns2 (1) + www (3) + chat (3) + the built-in admin endpoints
    // monitoring, dashboard and alertmanager (3 each), and shop.example.org (3) in example.org.
    expect(rows).toHaveLength(2 * (15 + 9) + 3);
    expect(rows[0]).toEqual(['example.com', 'SOA', expect.stringMatching(/^ns1\.example\.com\. hostmaster\.example\.com\. \d+ 3600 600 1209600 300$/), '3600', 'start of authority of example.com']);
    expect(rows).toContainEqual(['example.com', 'NS', 'ns2.example.com.', '3600', 'name server on fe2']);
    expect(rows).toContainEqual(['ns1.example.org', 'AAAA', '2001:db8::10', '3600', 'name server address of fe1']);
    expect(rows).toContainEqual(['www.example.org', 'A', '203.0.113.11', '300', 'public endpoint of web via fe2']);
    expect(rows).toContainEqual(['shop.example.org', 'AAAA', '2001:db8::10', '300', 'public endpoint of web via fe1']);
    expect(rows).toContainEqual(['chat.example.com', 'A', '203.0.113.10', '300', 'other public endpoint of chat via fe1']);
    // skip_dns (hidden: secret.*) and names outside the zones (www.elsewhere.test) are not served.
    expect(rows.filter((x) => /secret|elsewhere/.test(x[0]))).toEqual([]);
  });

  it('--json prints the same records as data', () => {
    const table = float('dns', '--config', join(FIXTURE, 'config.yml'));
    const json = float('dns', '--config', join(FIXTURE, 'config.yml'), '--json');
    expect(json.status, json.stderr).toBe(0);
    const records = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(records).toHaveLength(table.stdout.trimEnd().split('\n').length - 1);
    expect(records).toContainEqual({ fqdn: 'www.example.com', type: 'AAAA', value: '2001:db8::10', ttl: 300, purpose: 'public endpoint of web via fe1' });
  });

  it('reports configuration errors with positions and exits 2', () => {
    const dir = writeTree(baseTree({ 'services.yml': 'web:\n  scheduling_group: nowhere\n' }));
    const r = float('dns', '--config', join(dir, 'config.yml'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/services\.yml:\d+:\d+: error: .*nowhere/);
    expect(r.stdout).toBe('');
  });
});
