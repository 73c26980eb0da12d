// The inventory schema (hosts.yml). Hosts are loose objects: any attribute not
// special to float is an Ansible variable and passes through untouched.
import { z } from 'zod';

const ipString = z.string().min(1);

export const hostAttrs = z.looseObject({
  ips: z.array(ipString).optional(),
  ip: ipString.optional(),
  ip6: ipString.optional(),
  public_ips: z.array(ipString).optional(),
  public_ip: ipString.optional(),
  public_ip6: ipString.optional(),
  groups: z.array(z.string().min(1)).default([]),
  resolver_mode: z
    .string()
    .regex(/^(ignore|localhost|external|internal:[A-Za-z0-9_-]+)$/, {
      message: 'resolver_mode must be one of ignore, localhost, external, internal:NET',
    })
    .optional(),
  turndown: z.boolean().default(false),
  shard_id: z.union([z.string(), z.number()]).optional(),
});

/** hosts.yml's top level: `hosts` (name -> attributes) and `group_vars` (group -> variables). */
export const hostsFileKeys = z.strictObject({
  hosts: z.record(z.string(), z.unknown()).nullable().optional(),
  group_vars: z.record(z.string(), z.record(z.string(), z.unknown()).nullable()).optional(),
});

export type HostAttrs = z.infer<typeof hostAttrs>;

/** A host after normalisation. */
export interface Host {
  name: string;
  /** Internal addresses (normalised from ips / ip / ip6). */
  ips: string[];
  /** Public addresses (default: ips). */
  public_ips: string[];
  /** Groups as written in hosts.yml. */
  groups: string[];
  /** Overlay network name -> this host's address on it (from ip_<net>). */
  overlays: Record<string, string>;
  turndown: boolean;
  shard_id?: string;
  resolver_mode?: string;
  /** All the host's variables as written (Ansible variables included), with ips/public_ips normalised. */
  vars: Record<string, unknown>;
}
