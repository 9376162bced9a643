/**
 * End-to-end tests: the built extension (dist/, `npm run build`) in Debian's Chromium,
 * headless, each test on a fresh profile. `npm run test:e2e`.
 */
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  globalSetup: './e2e/global-setup.ts',
  // Each test launches its own browser; two at a time is what two cores carry.
  workers: 2,
  fullyParallel: true,
  timeout: 90_000,
  expect: { timeout: 30_000 },
  forbidOnly: true,
  reporter: [['list']],
  outputDir: 'test-results/e2e',
});
