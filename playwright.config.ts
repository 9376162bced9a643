/**
 * End-to-end tests: the built extension (dist/, `npm run build`) in Debian's Chromium,
 * headless, each test on a fresh profile. `npm run test:e2e`.
 */
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  globalSetup: './e2e/global-setup.ts',
  // Each test launches its own browser, and mostly waits on it (the whole run used under
  // half a core of CPU with two workers): three at a time on two cores took 5.2 min
  // where two took 7.1 (same loaded machine, same hour; four took 5.7).
  workers: 3,
  fullyParallel: true,
  timeout: 90_000,
  expect: { timeout: 30_000 },
  forbidOnly: true,
  reporter: [['list']],
  outputDir: 'test-results/e2e',
});
