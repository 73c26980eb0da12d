// Runs once before the tests: builds the CLI's JavaScript (dist/) when a source is
// newer, so the tests that spawn bin/float.mjs (and the roles that run it, such as
// float-base-ssh's sign-host-key) exercise the built CLI an operator runs, as it
// is now.
import { build } from '../scripts/build.mjs';

export default function setup() {
  build();
}
