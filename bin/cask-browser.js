#!/usr/bin/env node
// Launches Chromium with the built extension (dist/) and the Cask panel open in a tab.
// `npm start` builds first, then runs this.
//
//   node bin/cask-browser.js [--profile DIR] [--headless]
//
// The profile (default .cask-profile/) keeps the kernel's state between starts. Chromium
// is Debian's /usr/bin/chromium unless CHROME_PATH names another. Without a display
// (no DISPLAY or WAYLAND_DISPLAY), or with --headless, it runs headless: it waits for
// the kernel to be idle, prints its status and vats as JSON, and exits.
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';

/* global chrome -- in the page.evaluate callback, which runs in the extension page */

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = resolve(root, 'dist');
const { values } = parseArgs({
  options: {
    profile: { type: 'string', default: resolve(root, '.cask-profile') },
    headless: { type: 'boolean', default: false },
  },
});
const executablePath = process.env.CHROME_PATH ?? '/usr/bin/chromium';
const headless =
  values.headless || (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY);

const fail = (message) => {
  process.stderr.write(`cask: ${message}\n`);
  process.exit(1);
};
if (!existsSync(resolve(dist, 'manifest.json'))) {
  fail(`${dist} has no built extension; run \`npm run build\` first`);
}
if (!existsSync(executablePath)) {
  fail(
    `no Chromium at ${executablePath}; install it (apt-get install chromium) or set CHROME_PATH`,
  );
}
mkdirSync(values.profile, { recursive: true });

const context = await chromium.launchPersistentContext(values.profile, {
  headless,
  executablePath,
  args: [
    `--disable-extensions-except=${dist}`,
    `--load-extension=${dist}`,
    '--no-first-run',
    '--disable-sync',
    ...(headless ? ['--disable-gpu'] : []),
  ],
  viewport: null,
});
const worker =
  context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
const extensionId = new URL(worker.url()).host;
const page = context.pages()[0] ?? (await context.newPage());
await page.goto(`chrome-extension://${extensionId}/panel.html`);

const ask = async (method, params = {}) => {
  const answer = await page.evaluate(
    ([m, p]) =>
      chrome.runtime.sendMessage({ type: 'cask:request', method: m, params: p }),
    [method, params],
  );
  if (!answer?.ok) throw new Error(`${method}: ${answer?.error?.message ?? 'no answer'}`);
  return answer.result;
};

process.stderr.write(
  `cask: extension ${extensionId} loaded from ${dist}, profile ${values.profile}\n`,
);
if (headless) {
  try {
    await ask('whenIdle');
    const [status, vats] = await Promise.all([ask('status'), ask('listVats')]);
    process.stdout.write(`${JSON.stringify({ extensionId, status, vats }, null, 2)}\n`);
  } finally {
    await context.close();
  }
} else {
  process.stderr.write('cask: close the browser window to stop.\n');
  await new Promise((done) => context.on('close', done));
}
