import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{kernel,vat-supervisor,node,test}/**/*.test.ts'],
    // The kernel runs under SES, as it does in every host.
    setupFiles: ['./vat-supervisor/lockdown.ts'],
    testTimeout: 30_000,
    pool: 'forks',
  },
});
