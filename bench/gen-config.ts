// Generates a float configuration of a given size on disk, deterministically,
// for benchmarks: hosts in frontend/backend/storage groups, some on an overlay,
// and services of mixed shapes (all/n instances, master election, endpoints).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { FLOAT_ROOT } from '../src/config/load.js';
import { rng } from './rng.js';


export function generateConfig(numHosts: number, numServices: number, seed = 1): string {
  const rand = rng(seed);
  const dir = mkdtempSync(join(tmpdir(), `float-bench-${numHosts}x${numServices}-`));
  const hosts: Record<string, unknown> = {};
  const frontends = Math.max(1, Math.round(numHosts / 20));
  for (let i = 0; i < numHosts; i++) {
    const name = `host${String(i + 1).padStart(4, '0')}`;
    const group = i < frontends ? 'frontend' : i % 5 === 0 ? 'storage' : 'backend';
    const h: Record<string, unknown> = { ips: [`10.${Math.floor(i / 250)}.${i % 250}.10`], groups: [group] };
    if (i % 2 === 0) h.ip_vpn0 = `172.16.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    hosts[name] = h;
  }
  const services: Record<string, unknown> = {};
  for (let s = 0; s < numServices; s++) {
    const name = `svc-${s}`;
    const shape = rand();
    const port = 10000 + s * 10;
    const svc: Record<string, unknown> = {
      scheduling_group: shape < 0.1 ? 'storage' : 'backend',
      // About 15 instances per service on average at 1000 hosts (the issue's ~15,000).
      num_instances: shape < 0.2 ? 'all' : [1, 2, 3, 5, 10, 20, 50][Math.floor(rand() * 7)],
      service_credentials: [{ name }],
      containers: [{ name: 'main', image: `registry.example.com/${name}:latest`, port }],
      monitoring_endpoints: [{ port: port + 1 }],
    };
    if (rand() < 0.3) svc.master_election = true;
    if (rand() < 0.4) svc.public_endpoints = [{ name, port, scheme: 'https' }];
    if (rand() < 0.2) svc.ports = [port + 2];
    services[name] = svc;
  }
  mkdirSync(join(dir, 'group_vars'), { recursive: true });
  writeFileSync(join(dir, 'config.yml'), 'plugin: float\n');
  writeFileSync(
    join(dir, 'group_vars/all.yml'),
    stringify({
      domain: 'internal.example.com',
      domain_public: ['example.com'],
      net_overlays: [{ name: 'vpn0', network: '172.16.0.0/16' }],
    }),
  );
  writeFileSync(join(dir, 'hosts.yml'), stringify({ hosts }));
  // float's built-in services (frontend, acme) serve the public endpoints, as in any real configuration.
  writeFileSync(join(dir, 'services.yml'), stringify({ include: [join(FLOAT_ROOT, 'services.default.yml')], ...services }));
  return dir;
}
