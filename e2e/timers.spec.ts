/**
 * Durable timers in the extension (docs/timers.md): the sample reminder
 * (vats/reminder.js, launched from vats/reminder-cluster.json as the build ships it)
 * keeps firing after the service worker was stopped — woken by its chrome.alarms alarm,
 * with no page touching the extension — and after a browser restart.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CDPSession } from '@playwright/test';
import { expect, test, type Settled, type Status } from './fixtures.ts';
import { DIST, type Cask } from './harness.ts';

interface ReminderStatus {
  fires: number;
  missed: number;
  last: string;
}

const reminderCluster = () =>
  JSON.parse(
    readFileSync(join(DIST, 'clusters/reminder-cluster.json'), 'utf8'),
  ) as unknown;

async function reminderStatus(cask: Cask): Promise<ReminderStatus> {
  const { result } = await cask.ask<Settled>('send', {
    target: { vat: 'reminder' },
    method: 'status',
  });
  if (result.status !== 'fulfilled') throw new Error(JSON.stringify(result));
  return result.value as ReminderStatus;
}

async function launchReminder(cask: Cask): Promise<number> {
  const launched = await cask.ask<{ bootstrap: { status: string; value: unknown } }>(
    'launchCluster',
    { config: reminderCluster() },
  );
  expect(launched.bootstrap).toMatchObject({ status: 'fulfilled', value: 'scheduled' });
  // It fires every 2 s (the cluster's periodMs).
  await expect
    .poll(async () => (await reminderStatus(cask)).fires, { timeout: 15_000 })
    .toBeGreaterThan(0);
  return (await reminderStatus(cask)).fires;
}

/** Resolves when the extension's service worker is seen running again after `stopped`. */
function nextStart(cdp: CDPSession): { stopped: Promise<void>; running: Promise<void> } {
  let sawStop = false;
  let stopped!: () => void;
  let running!: () => void;
  const result = {
    stopped: new Promise<void>((resolve) => (stopped = resolve)),
    running: new Promise<void>((resolve) => (running = resolve)),
  };
  cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
    for (const v of versions) {
      if (!v.scriptURL.startsWith('chrome-extension://')) continue;
      if (v.runningStatus === 'stopped') {
        sawStop = true;
        stopped();
      } else if (sawStop && v.runningStatus === 'running') {
        running();
      }
    }
  });
  return result;
}

test('a stopped service worker is woken by the alarm and the reminder fires, no page touching the extension', async ({
  cask,
}) => {
  const before = await launchReminder(cask);
  const { boot } = await cask.ask<Status>('status');
  // Nothing of the extension stays open but its offscreen document (the vat host), which
  // never starts the worker: the panel page goes, and the worker is stopped from a blank
  // page.
  await cask.page.close();
  const blank = await cask.context.newPage();
  const cdp = await cask.context.newCDPSession(blank);
  const watch = nextStart(cdp);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await watch.stopped;
  // Only the alarm can start it now.
  await watch.running;
  await cdp.detach();
  cask.page = await cask.context.newPage();
  await cask.page.goto(cask.url('panel.html'));
  const after = await cask.ask<Status>('status');
  expect(after.boot.id).not.toBe(boot.id);
  await expect
    .poll(async () => (await reminderStatus(cask)).fires, { timeout: 15_000 })
    .toBeGreaterThan(before);
});

test('the reminder fires after a browser restart on the same profile', async ({
  cask,
}) => {
  const before = await launchReminder(cask);
  await cask.restartBrowser();
  await expect
    .poll(async () => (await reminderStatus(cask)).fires, { timeout: 15_000 })
    .toBeGreaterThan(before);
  // Its timer is the one it asked for on its first start: one pending row.
  const rows = await cask.ask<{ rows: unknown[][] }>('query', {
    sql: 'SELECT count(*) FROM timers',
  });
  expect(rows.rows).toEqual([[1]]);
});
