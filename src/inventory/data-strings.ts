// Service definitions are data: no string of services.yml is evaluated as Jinja
// on the controller (where the vault password is), except the env values of a
// container that opts in with `env_templates: true`. The strings that Jinja could
// read are emitted as `!unsafe` (see yaml-emit.ts).
import type { Service } from '../config/schema/service.js';
import { dataString, isMap } from './yaml-emit.js';

/** A value with every string in it data (mappings and lists walked; other values as they are). */
export function dataValue(v: unknown): unknown {
  if (typeof v === 'string') return dataString(v);
  if (Array.isArray(v)) return v.map(dataValue);
  // Only mappings: value objects (a timestamp, a vault value, …) are emitted as they are.
  if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, dataValue(x)]));
  return v;
}

const cache = new WeakMap<Service, Service>();

/** A service's attributes for the inventory: every string data, but opted-in env values. */
export function serviceData(s: Service): Service {
  let out = cache.get(s);
  if (!out) {
    const d = dataValue(s) as Service;
    d.containers = s.containers.map((c, i) => (c.env_templates ? { ...d.containers[i], env: { ...c.env } } : d.containers[i]));
    cache.set(s, (out = d));
  }
  return out;
}
