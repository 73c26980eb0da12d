// Naming rules shared by the inventory and the roles.

/** Ansible group / variable form of a service name: dashes become underscores. */
export function groupName(service: string): string {
  return service.replace(/-/g, '_');
}

/** The UNIX user a service runs as. */
export function serviceUser(service: string): string {
  return `docker-${service}`;
}

/** The tag of one container of a service, also its systemd unit's base name. */
export function containerTag(service: string, container: string): string {
  return `${service}-${container}`;
}

export function containerUnit(service: string, container: string): string {
  return `${containerTag(service, container)}.service`;
}

/** Code-point order, the same on every machine (never localeCompare). */
export { byCodePoint } from '../core/compare.js';
