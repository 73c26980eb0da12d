// The vault password: the implementation is shared with the configuration loader (src/core/vault-password.ts).
export * from '../core/vault-password.js';
