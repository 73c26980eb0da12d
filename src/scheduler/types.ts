// The scheduler's input and output. Both schedulers (the stable default and
// float-compat) are pure functions ScheduleInput -> ScheduleResult: no file system,
// no clock, no environment, no Math.random.

export interface SchedHost {
  name: string;
  /** Every group the host is in, as written in hosts.yml, plus `overlay_<net>` for each `ip_<net>`. Not including `all`. */
  groups: string[];
  /** Hosts with `turndown: true` receive no instances (stable scheduler). */
  turndown: boolean;
}

export interface SchedService {
  name: string;
  scheduling_group?: string;
  scheduling_groups?: string[];
  /** 'all' or a positive integer. */
  num_instances: number | 'all';
  master_election: boolean;
  master_scheduling_group?: string;
  schedule_with?: string;
  scheduling_order?: number;
}

export interface ScheduleInput {
  /** Stable seed from the configuration (scheduler_seed, default the internal domain). Ignored by float-compat. */
  seed: string;
  hosts: SchedHost[];
  services: SchedService[];
}

/** A scheduling failure, tied to the service and attribute that caused it, so the caller can position it. */
export interface ScheduleError {
  service: string;
  attribute: 'num_instances' | 'scheduling_group' | 'scheduling_groups' | 'master_scheduling_group' | 'schedule_with';
  /** The item of a list attribute (scheduling_groups) the error is about. */
  index?: number;
  code: 'F2003' | 'F2004' | 'F2005' | 'F2006';
  message: string;
}

export interface ScheduleResult {
  /** service -> sorted list of host names running it. */
  assignments: Record<string, string[]>;
  /** service -> master host, only for services with master_election. */
  masters: Record<string, string>;
  errors: ScheduleError[];
}
