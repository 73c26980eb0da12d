// The compiled inventory, as data: what emit writes to disk.

export type Vars = Record<string, unknown>;

export interface Inventory {
  /** host -> groups it belongs to (sorted, without `all`). */
  hostGroups: Record<string, string[]>;
  /** host -> host variables. */
  hostVars: Record<string, Vars>;
  /** group -> file name (without .yml) -> variables. */
  groupVars: Record<string, Record<string, Vars>>;
  /** Files copied as they are (relative path -> contents): the operator's vault-encrypted group_vars. */
  files?: Record<string, string>;
}

/** One credential a host needs, with the X.509 names and addresses of its certificates. */
export interface HostCredential {
  name: string;
  service: string;
  enable_client: boolean;
  enable_server: boolean;
  client_cert_mode: 'client' | 'server' | 'both';
  server_cert_mode: 'client' | 'server' | 'both';
  /** Common name and DNS SANs of the client certificate. */
  client_names: string[];
  /** DNS SANs of the server certificate (the first is its common name). */
  server_names: string[];
  /** IP SANs of the server certificate. */
  server_ips: string[];
}
