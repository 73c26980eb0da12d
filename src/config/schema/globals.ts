// Global configuration variables (group_vars/all and hosts.yml group_vars.all).
// Known variables are typed; everything else is an Ansible variable and passes through.
import { z } from 'zod';

export const netOverlay = z.looseObject({
  name: z.string().regex(/^[A-Za-z0-9_-]+$/, { message: 'overlay names are alphanumerics, dashes, underscores' }),
  network: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(655),
});

export const admin = z.looseObject({
  name: z.string().min(1),
  email: z.string().optional(),
  password: z.string().optional(),
  totp_secret: z.string().optional(),
  ssh_keys: z.array(z.string()).default([]),
});

export const staticHostEntry = z.looseObject({
  host: z.string().min(1),
  addr: z.string().min(1),
});

export const globals = z.looseObject({
  domain: z.string().min(1),
  domain_public: z.array(z.string().min(1)).min(1),
  testing: z.boolean().default(true),
  float_debian_dist: z.string().default('bookworm'),
  net_overlays: z.array(netOverlay).default([]),
  admins: z.array(admin).default([]),
  enable_ssh: z.boolean().default(true),
  ssh_host_key_principal: z.string().default('{{ inventory_hostname }}.{{ domain }}'),
  static_host_entries: z.array(staticHostEntry).default([]),
  apt_proxy: z.string().optional(),
  docker_registry_url: z.string().optional(),
  docker_registry_username: z.string().optional(),
  docker_registry_password: z.string().optional(),
  nginx_global_custom_headers: z.record(z.string(), z.string()).default({}),
  nginx_top_level_domain_redirects: z.record(z.string(), z.string()).default({}),
  volumes_vg: z.string().default('vg0'),
});

export type Globals = z.infer<typeof globals>;
export type NetOverlay = z.infer<typeof netOverlay>;
