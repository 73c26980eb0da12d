// Naming rules shared by the inventory and the roles.
import type { Service } from '../config/schema/service.js';

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

/** Unit names float manages for a service: its systemd_services plus one per container. */
export function serviceUnits(s: Service): string[] {
  return [...s.systemd_services, ...s.containers.map((c) => containerUnit(s.name, c.name))];
}

/** Code-point order, the same on every machine (never localeCompare). */
export { byCodePoint } from '../core/compare.js';
