import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The 9 GiB OVA member runs by hand (scripts/long-tests.sh), not in every run.
    exclude: [
      ...configDefaults.exclude,
      ...(process.env.WASMVISOR_BIG_TESTS === '1' ? [] : ['test/ovf/big.test.ts']),
    ],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Probes the reference tools once (test/helpers/tools.ts asks it).
    globalSetup: ['test/helpers/tools-setup.ts'],
    reporters: ['default', 'json'],
    // A machine-readable summary beside the console output (CI prints its totals).
    outputFile: { json: '.vitest/results.json' },
  },
});
