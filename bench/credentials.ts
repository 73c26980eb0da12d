// Credentials benchmark: first issuance of 100 hosts x 10 credentials (a server
// and a client certificate each: 2,000 certificates with their keys), then a
// no-change run. Targets: under 20 s and under 1 s.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCertificates } from '../src/credentials/pki-store.js';
import type { CertRequest } from '../src/credentials/types.js';
import { makeVaultCodec } from '../src/credentials/vault.js';

function requests(hosts: number, creds: number): CertRequest[] {
  const out: CertRequest[] = [];
  for (let h = 0; h < hosts; h++) {
    for (let c = 0; c < creds; c++) {
      const svc = `svc${c}`;
      const host = `host${h}`;
      out.push({
        id: `${host}/${svc}/server`,
        kind: 'server',
        commonName: `${svc}.internal.example.com`,
        dnsNames: [`${svc}.internal.example.com`, svc, `${host}.${svc}.internal.example.com`, `${host}.${svc}`, `${host}.internal.example.com`, 'localhost'],
        ipAddresses: [`10.0.${h}.10`, `172.16.${h}.10`, '127.0.0.1', '::1'],
        mode: 'server',
      });
      out.push({ id: `${host}/${svc}/client`, kind: 'client', commonName: svc, dnsNames: [svc, `${svc}.internal.example.com`], ipAddresses: [], mode: 'client' });
    }
  }
  return out;
}

export async function benchCredentials(): Promise<void> {
  console.log('\n== credentials (X.509 PKI, ECDSA P-256, keys in per-host vault files) ==');
  const dir = mkdtempSync(join(tmpdir(), 'float-bench-pki-'));
  const codec = makeVaultCodec('benchmark password');
  const reqs = requests(100, 10);
  try {
    let t0 = performance.now();
    const first = await ensureCertificates(dir, reqs, codec, new Date());
    const firstMs = performance.now() - t0;
    t0 = performance.now();
    const again = await ensureCertificates(dir, reqs, codec, new Date());
    const againMs = performance.now() - t0;
    const row = (what: string, ms: number, limit: number) =>
      console.log(`  ${what.padEnd(58)} ${(ms / 1000).toFixed(2).padStart(6)} s  (limit ${limit} s)  ${ms < limit * 1000 ? 'PASS' : 'FAIL'}`);
    row(`first issuance: ${first.issued.length} certificates for 100 hosts x 10 credentials`, firstMs, 20);
    row(`no-change run: ${again.issued.length} issued, ${again.kept.length} kept`, againMs, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await benchCredentials();
