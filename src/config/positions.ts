// Where an attribute of a service was written, for diagnostics about it.
import type { Position } from './diagnostics.js';
import type { Model } from './load.js';
import { locate } from './source.js';

/** The position of services.yml's `svc.path...` (its key with `key`), after includes and merges. */
export function svcPos(model: Model, svc: string, path: PropertyKey[], key = false): Position {
  return locate(model.sources.services, [svc, ...path], { key });
}
