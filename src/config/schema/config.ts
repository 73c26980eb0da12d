// config.yml: pointers to the other files, plus float's own settings.
import { z } from 'zod';

/** config.yml's `test_env`: how `float env` boots the hosts of hosts.yml on this machine. */
export const testEnv = z.strictObject({
  /** The hosts' network (default: the /24 holding their addresses). */
  network: z.string().optional(),
  /** The bridge's address, the hosts' default gateway (default: the network's first address). */
  gateway: z.string().optional(),
  /** The bridge's name (default fb-<hash>). */
  bridge: z.string().optional(),
  /** The environment's name (default: derived from config.yml's directory). */
  name: z.string().optional(),
  /** Where the hosts' disks, logs and state live, relative to config.yml (default .float-env). */
  state_dir: z.string().optional(),
  /** The environment's SSH key, relative to config.yml (default <state_dir>/ssh/id_ed25519). */
  ssh_key: z.string().optional(),
});

export const configFile = z.strictObject({
  plugin: z.literal('float', { message: "config.yml must contain 'plugin: float'" }),
  services_file: z.string().default('services.yml'),
  hosts_file: z.string().default('hosts.yml'),
  passwords_file: z.string().default('passwords.yml'),
  credentials_dir: z.string().default('credentials/'),
  /** Vault password file used when ANSIBLE_VAULT_PASSWORD_FILE is not set (create-env writes it). */
  vault_password_file: z.string().optional(),
  /** `stable` (default) or `float-compat` (upstream float's assignments, for migration). */
  scheduler: z.enum(['stable', 'float-compat']).default('stable'),
  /** Seed of the stable scheduler; defaults to the internal domain. */
  scheduler_seed: z.string().optional(),
  /** Local test environment settings written by `float create-env --local`. */
  test_env: testEnv.optional(),
  /**
   * Rollback protection of `float run` (the commit applied to each host is recorded, an older one refused):
   * `auto` (default) when the configuration is a git repository that git can read, with a warning when git
   * fails or refuses it; `required` refuses to run without it; `off` never asks git.
   */
  rollback_protection: z.enum(['auto', 'required', 'off']).default('auto'),
  /** Extra Ansible roles path (create-env --roles-path). */
  roles_path: z.string().optional(),
  /** Operator alerting/recording rule files (*.yml) for Prometheus, relative to config.yml. */
  prometheus_rules_dir: z.string().optional(),
});

export type ConfigFile = z.infer<typeof configFile>;
