import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{kernel,vat-supervisor,node,test}/**/*.test.ts'],
    // The kernel runs under SES, as it does in every host.
    setupFiles: ['./vat-supervisor/lockdown.ts'],
    // A directory for this run where test files share the vat bundles they make.
    globalSetup: ['./test/setup/bundle-cache.ts'],
    testTimeout: 30_000,
    // Hooks start workers and bundle vats; on a loaded two-core machine that has taken
    // over the default 10 s.
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default (one worker fewer than the cores) runs files one at a time on our
    // two-core machines; the long files (crash, daemon, adversarial) mostly wait on
    // child processes, so two workers take 6 minutes instead of 10.
    maxWorkers: 2,
  },
});
