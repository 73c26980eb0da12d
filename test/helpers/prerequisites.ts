// Tests that need something a machine may lack (root, systemd-nspawn, debootstrap,
// pebble, python3) are skipped there, with the reason printed. Under
// FLOAT_E2E_REQUIRED=1, which CI (.ci/run) sets, a missing prerequisite is a
// failure instead: the test file stops with the reason.

export const PREREQUISITES_REQUIRED = process.env.FLOAT_E2E_REQUIRED === '1';

/**
 * Returns `reason` (skip `what`, after saying why), or undefined when nothing is
 * missing; throws instead of skipping when FLOAT_E2E_REQUIRED=1.
 */
export function skipUnlessRequired(what: string, reason: string | undefined): string | undefined {
  if (reason === undefined) return undefined;
  if (PREREQUISITES_REQUIRED) {
    throw new Error(`${what} cannot run here: ${reason} (FLOAT_E2E_REQUIRED=1: a missing prerequisite is a failure, not a skip)`);
  }
  console.warn(`skipping ${what}: ${reason}`);
  return reason;
}
