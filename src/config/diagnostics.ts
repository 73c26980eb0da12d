// Diagnostics: positioned messages with stable codes, and the one error type
// that carries user mistakes up to the CLI (src/cli/main.ts catches it).

export type Severity = 'error' | 'warning';

/** The catalogue of diagnostic codes. Codes are stable: docs and tests name them. */
const CODES = {
  F1000: 'YAML syntax error',
  F1001: 'unknown attribute',
  F1002: 'wrong type or value',
  F1003: 'missing required attribute',
  F1004: 'key repeated in one mapping',
  F1005: 'file not found or unreadable',
  F1006: 'include cycle',
  F1007: 'invalid name',
  F1010: 'control character in a configuration string',
  F1011: 'invalid host name',
  F1012: 'invalid credential name',
  F1013: 'invalid shard_id',
  F1014: 'invalid DNS name',
  F1015: 'wildcard in extra_san',
  F1016: 'service name unfit for a DNS label or user name',
  F1017: 'unsafe endpoint path',
  F1018: 'invalid environment variable name',
  F1019: 'invalid container image reference',
  F1020: 'invalid volume source or target',
  F1021: 'invalid public TCP endpoint name',
  F1022: 'invalid group name',
  F1023: 'egress_policy on a container running as root',
  F1024: 'configuration value leads outside its directory',
  F1025: 'nginx setting nginx would misread',
  F1026: 'static_host_entries address is not an IP address',
  F1027: 'invalid systemd unit name',
  F1028: 'invalid dataset or volume name or path',
  F1040: 'aliases expand too far',
  F1041: 'alias cycle',
  F1042: 'alias without an anchor',
  F1043: 'unreadable scalar or unsupported tag',
  F1044: 'merge key without a mapping',
  F1045: 'encrypted file cannot be read',
  F2001: 'port conflict between services',
  F2002: 'duplicate public endpoint',
  F2003: 'unknown scheduling group',
  F2004: 'not enough hosts for num_instances',
  F2005: 'schedule_with names an unknown service',
  F2006: 'schedule_with cycle',
  F2007: 'dataset with both path and backup_command',
  F2008: 'overlay address problem',
  F2009: 'address used by two hosts',
  F2010: 'public TCP port claimed twice',
  F2011: 'missing global variable',
  F2012: 'master elected on a host that does not run the service',
  F2013: 'a secret named twice in the passwords files',
  F2014: 'credential name clash',
  F2020: 'TLS passthrough name also served over HTTP, or passed through twice',
  F2021: 'horizontal endpoint path used twice',
  F2022: 'a name that cannot go into a certificate (behind the string checks)',
  F2023: "public endpoints without float's built-in services",
  F2030: 'warning: an attribute accepted but not acted on by any role',
  F2031: 'retired: enable_sso_proxy: true is now enforced by the frontends (admin access)',
  F2032: 'no usable vault password',
  F2033: 'a vault-encrypted file that cannot be decrypted (wrong password, or corrupt)',
  F2035: 'a private key that does not match its certificate or public key, or is missing beside it',
  F2036: 'an SSH host certificate that cannot be signed (a malformed host key, bad principals)',
  F2040: 'a command-line usage error',
  F2041: 'a program float needs is missing or cannot run',
  F2042: 'an output path float cannot write or will not overwrite',
  F2043: 'a local test environment problem',
  F2044: 'a git revision that cannot be read',
  F2045: 'a playbook that does not exist',
  F2060: 'sign-host-key input problem',
  F2061: 'a service named like a host',
  F2100: 'an overlay name unfit for a network interface, or an overlay defined twice',
  F2101: "a host in an overlay's groups without an address on it (float overlay assign)",
  F2102: 'an overlay network without enough free addresses',
  F2103: 'a WireGuard key in credentials_dir that cannot be used',
  F2104: 'a host float overlay status --live cannot ask',
  F2110: 'a monitoring label name or value Prometheus would refuse',
  F2111: 'a monitoring duration Prometheus would refuse',
  F2112: 'a monitoring endpoint metrics_path that is not an absolute URL path',
  F2113: 'an alert receiver that is malformed or named twice',
  F2114: 'an operator Prometheus rule file that promtool refuses',
  F2115: 'prometheus_rules_dir that is not a readable directory',
  F2120: 'a dataset without a source, or a backup_command without its restore_command',
  F2121: 'a dataset schedule float cannot turn into a timer',
  F2122: 'warning: datasets without a backup repository',
  F2123: 'a backup repository without its restic password',
  F2124: 'a dataset named twice, or two datasets with one path',
  F2125: 'a dataset owner, group or mode that is not one',
  F2126: 'an unusable backup_repository_uri',
  F2127: 'the backup agent on a host failed (float backups, float restore)',
  F2130: 'a name reserved for log collection (log-client)',
  F2131: 'log_forward_uri is not a syslog receiver address',
  F2132: 'float logs cannot reach the log collector',
  F2140: 'an admin name that cannot be a user name, or is used twice',
  F2141: 'an admin password that is not a supported crypt hash',
  F2142: 'admin_auth leaves an admin no way in',
  F2143: 'an admin that float-admin-cert / ssh-cert / ssh does not know, or a bad argument for them',
  F2144: 'an admin credentials file that is malformed or does not match',
  F2150: 'a dashboard output directory float will not or cannot write',
  F2151: "Prometheus' API unreachable or answering something else",
  F2152: 'no host runs the Prometheus service for float status',
  F2153: 'a dependency in annotations naming a service that is not configured',
  F2160: 'float_debian_dist is not a Debian release float manages',
  F2161: 'mail_relay value float cannot use',
  F2162: 'volume without a size, or with one LVM cannot read',
  F2163: 'two volumes that can share a host use one logical volume name or mount path',
  F2164: 'warning: the volumes scheduled on a host exceed its volume group (volumes_vg_size)',
  F2165: 'volumes_vg_size is not an LVM size',
  F3010: 'test environment state file unreadable or malformed',
  F3011: 'malformed credentials file',
  F3012: 'configuration locked by another float process',
  F3013: 'cannot take the configuration lock',
  F3014: 'rollback protection unavailable',
  F3015: 'applying a commit with uncommitted changes',
} as const;

export type Code = keyof typeof CODES;

export interface Position {
  file: string;
  line: number; // 1-based
  col: number; // 1-based
}

export interface Diagnostic {
  code: Code;
  severity: Severity;
  message: string;
  pos?: Position;
  /**
   * What the diagnostic is about (a service, host, attribute or public name), so
   * code compares diagnostics by (code, pos, subject) and never by their text.
   */
  subject?: string;
}

/** FILE:LINE:COL. */
export function formatPosition(p: Position): string {
  return `${p.file}:${p.line}:${p.col}`;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.pos ? `${formatPosition(d.pos)}: ` : '';
  return `${where}${d.severity}: ${d.message} [${d.code}]`;
}

/** Sort diagnostics by file, line, column, so output is stable. */
export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => {
    const fa = a.pos?.file ?? '';
    const fb = b.pos?.file ?? '';
    if (fa !== fb) return fa < fb ? -1 : 1;
    return (a.pos?.line ?? 0) - (b.pos?.line ?? 0) || (a.pos?.col ?? 0) - (b.pos?.col ?? 0);
  });
}

/** A user mistake (bad configuration, missing file, bad flag): the CLI prints it and exits 2. */
export class FloatUserError extends Error {
  readonly diagnostics: Diagnostic[];
  /** Positioned diagnostics, or one message with its code (every user error has a specific code: no default). */
  constructor(diagnostics: Diagnostic[]);
  constructor(message: string, code: Code);
  constructor(diagnostics: Diagnostic[] | string, code?: Code) {
    const ds = typeof diagnostics === 'string' ? [{ code: code!, severity: 'error' as const, message: diagnostics }] : diagnostics;
    super(ds.map(formatDiagnostic).join('\n'));
    this.name = 'FloatUserError';
    this.diagnostics = ds;
  }
}

export function hasErrors(ds: Diagnostic[]): boolean {
  return ds.some((d) => d.severity === 'error');
}
