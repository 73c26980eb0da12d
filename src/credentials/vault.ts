// Ansible Vault files: the implementation is shared with the configuration loader (src/core/vault.ts).
export * from '../core/vault.js';
