/**
 * Tests that must run in a real browser (extension/**\/*.browser.test.ts): Debian's
 * Chromium, headless, driven by Playwright, so that IndexedDB is the browser's own, on
 * disk, not a mock. `npm run test:browser`; Chromium must be installed (.ci/run does it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';

// A real profile directory, new for each run: Playwright's default browser context is
// off the record, and there IndexedDB lives in memory, so durable writes would not be.
const profile = mkdtempSync(join(tmpdir(), 'cask-chromium-'));
process.on('exit', () => rmSync(profile, { recursive: true, force: true }));

export default defineConfig({
  resolve: {
    // The kernel and the shared durability suite import 'sql.js'; in the browser it must
    // be told where its wasm is.
    alias: [
      {
        find: /^sql\.js$/u,
        replacement: fileURLToPath(new URL('./browser-test/sql-js.ts', import.meta.url)),
      },
    ],
  },
  optimizeDeps: {
    // Vite's pre-bundling moves shared modules into chunks that run before the modules
    // importing them, so @endo code ran before 'ses' had installed its globals
    // ("assert is not defined"). The kernel's dependencies are ES modules: serve them as
    // they are, in order. Only sql.js (CommonJS) is pre-bundled, up front.
    noDiscovery: true,
    include: ['sql.js/dist/sql-wasm-browser.js'],
  },
  test: {
    include: ['extension/**/*.browser.test.ts'],
    // The kernel runs under SES, as it does in every host: lockdown before any test
    // module is imported.
    setupFiles: ['./vat-supervisor/lockdown.ts'],
    testTimeout: 30_000,
    // One browser context for all files: a persistent one cannot be shared by parallel
    // sessions (Vitest would fall back to an off-the-record one).
    fileParallelism: false,
    browser: {
      enabled: true,
      headless: true,
      screenshotFailures: false,
      provider: playwright({
        persistentContext: profile,
        launchOptions: {
          // Playwright cannot download its own browsers on these machines.
          executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
          args: ['--disable-gpu', '--disable-background-networking', '--no-first-run'],
        },
      }),
      instances: [{ browser: 'chromium' }],
    },
  },
});
