// The contract between the cluster-services end-to-end file (test/e2e/cluster.test.ts)
// and the suites it runs on one shared set of booted hosts. Booting hosts and the first
// `float run` with every cluster service cost minutes; sharing them keeps `npm test`
// short. Each suite contributes configuration (merged before the first run) and tests:
// `checks` only observe, `changes` may change the configuration and re-run float, and
// must leave every other suite's service working (they run after all checks, in the
// order of SUITES in cluster.test.ts).
import type { LocalEnv, RunOut } from '../../helpers/local-env.js';

/** The shared hosts: fe1 (frontend), be1 and be2 (backend), aux1 (group aux). */
export const CLUSTER_HOSTS = ['fe1', 'be1', 'be2', 'aux1'] as const;
export type ClusterHost = (typeof CLUSTER_HOSTS)[number];

/** What a suite sees; filled in by beforeAll, so read it inside tests and hooks only. */
export interface ClusterCtx {
  env: LocalEnv;
  /** The configuration directory (a git repository; commit before float run). */
  dir: string;
  /** The internal domain (`domain`). */
  domain: string;
  /** The bridge network, e.g. 10.83.4.0/24, and each host's address on it. */
  network: string;
  ip: Record<ClusterHost, string>;
  on(host: string, command: string): RunOut;
  float(args: string[], label?: string): RunOut;
  /** `float run site.yml ARGS`, asserting nothing; see runOk. */
  floatRun(args?: string[], label?: string): RunOut;
  /** `float run site.yml ARGS`, failing the test with the output's tail unless it succeeded. */
  runOk(args?: string[], label?: string): RunOut;
  /** Replaces a configuration file's text (relative to dir) and commits it with `message`. */
  edit(file: string, change: (text: string) => string, message: string): void;
  /** Commits whatever changed in dir. */
  commit(message: string): void;
}

/** Values a suite's configuration may depend on (known before the hosts boot). */
export interface ClusterLayout {
  network: string;
  ip: Record<ClusterHost, string>;
  domain: string;
}

export interface ClusterSuite {
  /** Short name; FLOAT_CLUSTER_SUITES=name1,name2 runs only those (development). */
  name: string;
  /** YAML text appended to services.yml: top-level service entries. */
  services?: (l: ClusterLayout) => string;
  /** Global variables: written as group_vars/all/<name>.yml. */
  globals?: (l: ClusterLayout) => string;
  /** Extra attribute lines per host in hosts.yml (YAML, indented under the host by the writer). */
  hostAttrs?: (l: ClusterLayout) => Partial<Record<ClusterHost, string[]>>;
  /** Extra groups per host (added to the host's `groups`). */
  hostGroups?: Partial<Record<ClusterHost, string[]>>;
  /** passwords.yml entries (YAML list items, each starting with "- "). */
  passwords?: string[];
  /** Other files of the configuration directory (path relative to it -> text). */
  files?: (l: ClusterLayout) => Record<string, string>;
  /** Playbooks (file names among `files`) imported by site.yml after float's own. */
  playbooks?: string[];
  /** Registers read-only tests (it(...)); they run after the first float run. */
  checks(ctx: ClusterCtx): void;
  /** Registers tests that change the configuration; they run after every suite's checks. */
  changes?(ctx: ClusterCtx): void;
}
