import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    // End-to-end tests share one set of booted hosts; they run in a single worker.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
