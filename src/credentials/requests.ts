// Which certificates the compiled inventory needs: one server and/or client
// certificate per host and credential. Pure.
import { pathSegment } from '../config/safe-path.js';
import type { HostCredential, Inventory } from '../inventory/types.js';
import type { CertRequest } from './types.js';

/** The id (path under credentials_dir/x509/) of a host's certificate. */
export function certId(host: string, credential: string, kind: 'server' | 'client'): string {
  return `${pathSegment(host, 'host name')}/${pathSegment(credential, 'credential name')}/${kind}`;
}

export function certRequests(inv: Inventory): CertRequest[] {
  const out = new Map<string, CertRequest>();
  for (const host of Object.keys(inv.hostVars).sort()) {
    const creds = (inv.hostVars[host].float_host_service_credentials ?? []) as HostCredential[];
    for (const c of creds) {
      if (c.enable_server) {
        const id = certId(host, c.name, 'server');
        if (!out.has(id)) {
          out.set(id, { id, kind: 'server', commonName: c.server_names[0], dnsNames: c.server_names, ipAddresses: c.server_ips, mode: c.server_cert_mode });
        }
      }
      if (c.enable_client) {
        const id = certId(host, c.name, 'client');
        if (!out.has(id)) {
          out.set(id, { id, kind: 'client', commonName: c.client_names[0], dnsNames: c.client_names, ipAddresses: [], mode: c.client_cert_mode });
        }
      }
    }
  }
  return [...out.values()];
}
