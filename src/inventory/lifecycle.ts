// Host lifecycle data: what each host records about the services float installs on
// it (so a later run can clean up after the ones that left), the LVM volumes it
// carries, and whether it is being turned down. Pure: no I/O.
import type { Host } from '../config/schema/host.js';
import type { Service } from '../config/schema/service.js';
import type { Context } from './context.js';
import { dataValue } from './data-strings.js';
import { byCodePoint, containerUnit, serviceUser } from './names.js';
import type { Vars } from './types.js';

/** The inventory group of hosts with `turndown: true` (plays of cluster services skip it). */
export const TURNDOWN_GROUP = 'float_turndown';

/** One volume of a service on a host: an LV of volumes_vg, mounted at `path`. */
export interface HostVolume {
  service: string;
  name: string;
  path: string;
  size: string;
  owner: string;
  group: string;
  mode: string;
}

/**
 * What float installed for a service on a host, written there as
 * /etc/float/services/<service>.json. When the service no longer runs there, the
 * float-base-departures role reads it to remove the user, groups, credentials and
 * units, and to list what it leaves behind (data directories, volumes).
 */
export interface ServiceManifest {
  service: string;
  user: string;
  credentials: string[];
  units: string[];
  data: string[];
  volumes: Array<{ name: string; path: string }>;
}

function octal(mode: string | number): string {
  return typeof mode === 'number' ? `0${mode.toString(8)}` : mode;
}

export function serviceManifest(s: Service): ServiceManifest {
  return {
    service: s.name,
    user: serviceUser(s.name),
    credentials: s.service_credentials.map((c) => c.name).sort(byCodePoint),
    units: [...s.systemd_services, ...s.containers.map((c) => containerUnit(s.name, c.name))].sort(byCodePoint),
    data: [...new Set(s.datasets.flatMap((d) => (d.path ? [d.path] : [])))].sort(byCodePoint),
    volumes: s.volumes.map((v) => ({ name: v.name, path: v.path })),
  };
}

export function hostVolumes(services: Service[]): HostVolume[] {
  return services.flatMap((s) =>
    s.volumes.map((v) => ({ service: s.name, name: v.name, path: v.path, size: v.size ?? '', owner: v.owner, group: v.group, mode: octal(v.mode) })),
  );
}

/** Host variables of the lifecycle roles (strings from services.yml stay data: never templated). */
export function lifecycleHostVars(ctx: Context, h: Host): Vars {
  const here = ctx.servicesOnHost.get(h.name)!;
  return {
    float_turndown: h.turndown,
    float_host_service_manifests: Object.fromEntries(here.map((s) => [s.name, dataValue(serviceManifest(s))])),
    float_host_volumes: dataValue(hostVolumes(here)),
  };
}
