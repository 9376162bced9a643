/**
 * History in the built extension (docs/history.md): a restore brings every table back to
 * what it was after the chosen crank (compared with a state file exported live at that
 * crank), the vats answer, and the restore is undone; it survives a service-worker stop
 * and a browser restart; a worker stopped in the middle of a restore comes back on the
 * old state or the new, never a mix; a fork is a state file of that crank that leaves
 * the kernel alone; and the panel's History view does all of it behind confirm steps,
 * at 1280 and at 420 px.
 */
import initSqlJs from 'sql.js';
import type { Page, TestInfo } from '@playwright/test';
import { checkStateFile } from '../kernel/durability/index.ts';
import { KernelStore } from '../kernel/store/index.ts';
import { dumpStore, type Dump } from '../test/fixtures/history.ts';
import type { HistoryPage } from '../extension/surface-protocol/index.ts';
import type { Cask } from './harness.ts';
import { expect, increment, test, type Status } from './fixtures.ts';

const SQL = await initSqlJs();

interface Restored {
  crank: number;
  restoreCrank: number;
  undoCrank: number;
  bootId: string;
}

async function count(cask: Cask): Promise<number> {
  const { result } = await cask.ask<{ result: { status: string; value: unknown } }>(
    'send',
    { target: { vat: 'counter' }, method: 'getCount' },
  );
  return result.value as number;
}

/** Every table of a state file but counters and labels (a restore moves those on). */
function dumpOf(file: Buffer): Dump {
  const { image } = checkStateFile(SQL, new Uint8Array(file));
  const store = KernelStore.open(SQL, image);
  try {
    return dumpStore(store, { restored: true });
  } finally {
    store.close();
  }
}

/** The live state, as a state file exported between cranks. */
async function liveState(cask: Cask): Promise<Buffer> {
  const { ok, bytes, error } = await cask.transfer({ type: 'cask:export' });
  if (!ok || !bytes) throw new Error(`export: ${error}`);
  return bytes;
}

async function forkAt(cask: Cask, crank: number): Promise<Buffer> {
  const { ok, bytes, error } = await cask.transfer({ type: 'cask:fork', crank });
  if (!ok || !bytes) throw new Error(`fork: ${error}`);
  return bytes;
}

/** Increments to a settled kernel; the crank, count and live state after it. */
async function stepTo(
  cask: Cask,
): Promise<{ crank: number; count: number; file: Buffer }> {
  const value = await increment(cask);
  await cask.ask('whenIdle');
  const { crank } = await cask.ask<Status>('status');
  return { crank, count: value, file: await liveState(cask) };
}

test('a restore brings every table back to the crank, the vats answer, and it is undone', async ({
  cask,
}) => {
  const first = await stepTo(cask);
  const target = await stepTo(cask);
  await stepTo(cask);
  const latest = await stepTo(cask);
  const listed = await cask.ask<HistoryPage>('history', { limit: 1000 });
  expect(listed.commits.some((c) => c.lastCrank === target.crank)).toBe(true);
  expect(listed.space.liveBytes).toBeGreaterThan(0);

  const restored = await cask.ask<Restored>('restore', { crank: target.crank });
  expect(restored.restoreCrank).toBeGreaterThan(latest.crank);
  expect(restored.undoCrank).toBe(latest.crank);
  // The state the restore installed is the state live after that crank, table by table.
  expect(dumpOf(await forkAt(cask, restored.restoreCrank))).toEqual(dumpOf(target.file));
  expect(await count(cask)).toBe(target.count);
  expect(await increment(cask)).toBe(target.count + 1);

  // Undone: back to the state before the restore.
  await cask.ask('whenIdle');
  const undone = await cask.ask<Restored>('restore', { crank: restored.undoCrank });
  expect(dumpOf(await forkAt(cask, undone.restoreCrank))).toEqual(dumpOf(latest.file));
  expect(await count(cask)).toBe(latest.count);

  // A fork is the state of its crank, and leaves the kernel where it is.
  await cask.ask('whenIdle');
  const before = await cask.ask<Status>('status');
  expect(dumpOf(await forkAt(cask, first.crank))).toEqual(dumpOf(first.file));
  expect((await cask.ask<Status>('status')).crank).toBe(before.crank);
  expect(await count(cask)).toBe(latest.count);
});

test('refusals name what was wrong and change nothing', async ({ cask }) => {
  const { crank } = await stepTo(cask);
  const restore = await cask.request('restore', { crank: 999_999 });
  expect(restore.error?.message).toMatch(/^crank 999999 is not committed yet/u);
  const bad = await cask.request('restore', { crank: 'two' });
  expect(bad.error?.message).toMatch(/^restore refused: params\.crank: /u);
  const fork = await cask.transfer({ type: 'cask:fork', crank: 'two' });
  expect(fork).toMatchObject({
    ok: false,
    error: 'fork refused: crank must be a whole number ≥ 0, not "two"',
  });
  const label = await cask.request('label', { crank, name: 'has space' });
  expect(label.error?.message).toMatch(/"has space" cannot be a label/u);
  const unlabel = await cask.request('unlabel', { name: 'none' });
  expect(unlabel.error?.message).toBe('no label is named none (there are no labels)');
  expect((await cask.ask<Status>('status')).crank).toBe(crank);
});

test('a restore survives a service-worker stop and a browser restart', async ({
  cask,
}) => {
  const target = await stepTo(cask);
  await stepTo(cask);
  await cask.ask('restore', { crank: target.crank });
  expect(await count(cask)).toBe(target.count);
  await cask.stopServiceWorker();
  expect(await count(cask)).toBe(target.count);
  await cask.restartBrowser();
  await cask.ask('whenIdle');
  expect(await count(cask)).toBe(target.count);
  expect(await increment(cask)).toBe(target.count + 1);
});

test('two restores asked at once run one after the other, each answered', async ({
  cask,
}) => {
  const one = await stepTo(cask);
  const two = await stepTo(cask);
  await stepTo(cask);
  const [first, second] = await Promise.all([
    cask.ask<Restored>('restore', { crank: one.crank }),
    cask.ask<Restored>('restore', { crank: two.crank }),
  ]);
  expect(first.crank).toBe(one.crank);
  expect(second.undoCrank).toBeGreaterThanOrEqual(first.restoreCrank);
  expect(await count(cask)).toBe(two.count);
});

test('a worker stopped in the middle of a restore comes back on the old state or the new, never a mix', async ({
  cask,
}) => {
  const logLine = (text: RegExp) =>
    cask.context.waitForEvent('console', { predicate: (m) => text.test(m.text()) });
  // Kill points: as the request leaves, once the state is built, once it is installed.
  const points: Array<{ name: string; at: () => Promise<unknown> }> = [
    { name: 'sent', at: async () => undefined },
    {
      name: 'built',
      at: () => logLine(/restore to crank \d+: state built; installing/u),
    },
    { name: 'installed', at: () => logLine(/restore to crank \d+: installed as crank/u) },
  ];
  const outcomes: string[] = [];
  for (const point of points) {
    const target = await stepTo(cask);
    const old = await stepTo(cask);
    const { commits } = await cask.ask<HistoryPage>('history', { limit: 1 });
    const seqBefore = commits[0]?.seq ?? 0;
    const reached = point.at();
    const asked = cask.request('restore', { crank: target.crank }).catch(() => undefined);
    await reached;
    await cask.stopServiceWorker();
    await asked;
    await cask.ask('whenIdle');
    const after = await cask.ask<HistoryPage>('history', { limit: 1000 });
    const restore = after.commits.find(
      (c) => c.seq > seqBefore && c.restore?.crank === target.crank,
    );
    if (restore) {
      expect(dumpOf(await forkAt(cask, restore.lastCrank))).toEqual(dumpOf(target.file));
      expect(await count(cask)).toBe(target.count);
      outcomes.push(`${point.name}: new`);
    } else {
      expect(await count(cask)).toBe(old.count);
      outcomes.push(`${point.name}: old`);
    }
  }
  // Stopped once it was installed, the restore has happened.
  expect(outcomes.at(-1)).toBe('installed: new');
  test.info().annotations.push({ type: 'outcomes', description: outcomes.join(', ') });
});

// ---- The panel ----

async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

for (const width of [1280, 420]) {
  test(`the History view at ${width} px: timeline, label, key history, fork and restore behind confirms`, async ({
    cask,
  }, testInfo) => {
    const target = await stepTo(cask);
    await stepTo(cask);
    const latest = await stepTo(cask);
    const { page } = cask;
    await page.setViewportSize({ width, height: 900 });
    await page.getByTestId('tab-history').click();
    const root = page.locator('[data-view="history"]');
    await expect(root.getByTestId('history-space')).toContainText('commits retained');
    await expect(root.getByTestId('history-tick').first()).toBeVisible();
    // The crank's own commit, not a step between cranks that ended at it.
    const row = root.locator(
      `[data-testid="history-row"][data-crank="${target.crank}"]:not([data-between])`,
    );
    await row.first().click();
    const detail = root.getByTestId('history-selected');
    await expect(detail).toHaveAttribute('data-crank', String(target.crank));

    // A label, shown on the row; then removed.
    await detail.getByTestId('history-label-name').fill('before-two');
    await detail.getByTestId('history-label-add').click();
    await expect(row.first()).toContainText('before-two');
    await detail.getByTestId('history-label-name').fill('bad name');
    await detail.getByTestId('history-label-add').click();
    await expect(detail.getByTestId('history-label-error')).toContainText(
      'cannot be a label',
    );

    // The counter's vatstore as it was then, and its count key's changes.
    const vats = await cask.ask<Array<{ vatId: string; name: string }>>('listVats');
    const counterId = vats.find((v) => v.name === 'counter')?.vatId as string;
    await detail.getByTestId('history-at-vat').selectOption(counterId);
    const countRow = detail.locator('[data-testid="history-at-row"][data-key$="count"]');
    await expect(countRow).toContainText(String(target.count));
    const key = (await countRow.getAttribute('data-key')) as string;
    await root.getByTestId('history-key-vat').selectOption(counterId);
    await root.getByTestId('history-key').fill(key);
    await root.getByTestId('history-key-search').click();
    await expect(
      root.locator(`[data-testid="history-key-row"][data-crank="${target.crank}"]`),
    ).toContainText(String(target.count));
    await snap(page, testInfo, `history-${width}`);

    // Fork: a confirm, then a state file of that crank; the kernel is not touched.
    await detail.getByTestId('history-fork').click();
    await detail.getByTestId('history-fork-cancel').click();
    await detail.getByTestId('history-fork').click();
    const download = page.waitForEvent('download');
    await detail.getByTestId('history-fork-confirm').click();
    const file = await download;
    expect(file.suggestedFilename()).toBe(`cask-fork-crank-${target.crank}.cask`);
    const saved = await file.path();
    const { readFileSync } = await import('node:fs');
    expect(dumpOf(readFileSync(saved))).toEqual(dumpOf(target.file));
    await expect(detail.getByTestId('history-fork-result')).toContainText('Saved');

    // Restore: cancel changes nothing; confirm restores, and says how to undo.
    const status = await cask.ask<Status>('status');
    await detail.getByTestId('history-restore').click();
    await expect(detail.getByRole('alertdialog')).toContainText(
      `state after crank ${target.crank}`,
    );
    await snap(page, testInfo, `history-restore-confirm-${width}`);
    await detail.getByTestId('history-restore-cancel').click();
    expect((await cask.ask<Status>('status')).crank).toBe(status.crank);
    expect(await count(cask)).toBe(latest.count);
    await detail.getByTestId('history-unlabel').first().click();
    await expect(row.first()).not.toContainText('before-two');
    await detail.getByTestId('history-restore').click();
    await detail.getByTestId('history-restore-confirm').click();
    // The view reloads on the new boot; the restore's commit is listed.
    await expect(
      root.locator('[data-testid="history-row"]', {
        hasText: `restore to crank ${target.crank}`,
      }),
    ).toBeVisible();
    await expect(detail.getByTestId('history-restore-result')).toContainText(
      `Restored to crank ${target.crank} as crank`,
    );
    expect(await count(cask)).toBe(target.count);
    await snap(page, testInfo, `history-restored-${width}`);
    // Nothing of the view spills out of a docked panel.
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
  });
}
