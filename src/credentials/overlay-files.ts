// The WireGuard keys as inventory files: every member's public key in
// group_vars/all (float_overlay_public_keys), and each member's private key file,
// still vault-encrypted, in its host_vars (Ansible decrypts vars files itself).
import { existsSync, readFileSync } from 'node:fs';
import type { Model } from '../config/load.js';
import { pathSegment } from '../config/safe-path.js';
import { toYaml } from '../inventory/yaml-emit.js';
import { overlayMembers, readWireguardPublicKeys, wireguardKeyPaths } from './wireguard.js';

export function overlayInventoryFiles(model: Model): Map<string, string> {
  const dir = model.config.credentials_dir;
  const members = overlayMembers(model);
  const files = new Map<string, string>();
  if (members.length === 0) return files;
  files.set('group_vars/all/overlay_public_keys.yml', toYaml({ float_overlay_public_keys: readWireguardPublicKeys(dir, members) }));
  for (const h of members) {
    const p = wireguardKeyPaths(dir, h).privateKey;
    if (existsSync(p)) files.set(`host_vars/${pathSegment(h, 'host name')}/overlay_key.yml`, readFileSync(p, 'utf8'));
  }
  return files;
}
