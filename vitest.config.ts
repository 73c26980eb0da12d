import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    // Builds dist/ first when a source changed: the tests run the built CLI.
    globalSetup: ['./test/global-setup.mjs'],
    // The default output, then how many tests were skipped and in which files.
    reporters: ['default', './test/helpers/skip-summary.ts'],
    // Test files run in parallel, two at a time (CI machines have 2 cores).
    // Each end-to-end file boots its own local hosts, with their own names and
    // network, so two of them can run side by side.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
