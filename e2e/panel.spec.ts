/**
 * The devtools panel (panel.html, opened as a tab of the built extension) driven the way
 * a person drives it: tabs, forms, file inputs, downloads, against the real kernel.
 * Every wait is on the UI's own state (texts, attributes, aria-busy); the surface
 * (`cask.ask`) only sets the scene and checks what the kernel holds afterwards.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Locator, Page, TestInfo } from '@playwright/test';
import { Cask, testBundle } from './harness.ts';
import {
  expect,
  increment,
  test,
  type CrankInfo,
  type Status,
  type VatReport as VatInfo,
} from './fixtures.ts';

type ViewName =
  'overview' | 'vats' | 'vatstore' | 'cranks' | 'send' | 'sql' | 'metrics' | 'state';

interface VatstorePage {
  entries: Array<{ key: string; value: string; decoded?: unknown }>;
  more: boolean;
}

const DEFAULT_VATS = ['bootstrap', 'alice', 'bob', 'carol', 'counter', 'ledger'];

/** The view's root section. */
function view(page: Page, name: ViewName): Locator {
  return page.locator(`[data-view="${name}"]`);
}

/** Opens a view by its tab and waits until it is shown. */
async function openView(page: Page, name: ViewName): Promise<Locator> {
  await page.getByTestId(`tab-${name}`).click();
  await expect(page.getByTestId(`tab-${name}`)).toHaveAttribute('aria-current', 'page');
  const root = view(page, name);
  await expect(root).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`#${name}$`, 'u'));
  return root;
}

/** A full-page screenshot in the test's output, attached to its results. */
async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

/** The panel's byte format (extension/panel/ui.tsx). */
function formatBytes(bytes: number): string {
  if (Math.abs(bytes) < 1024) return `${Math.round(bytes)} B`;
  if (Math.abs(bytes) < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(2)} MiB`;
}

function vatRow(page: Page, vatId: string): Locator {
  return page.locator(`[data-testid="vat-row"][data-vat-id="${vatId}"]`);
}

/** Each vat row as "name id state", in table order. */
async function vatRowsText(page: Page): Promise<string[]> {
  return page.getByTestId('vat-row').evaluateAll((rows) =>
    rows.map((row) =>
      [...row.querySelectorAll('td')]
        .slice(0, 3)
        .map((td) => td.textContent)
        .concat(row.getAttribute('data-state') ?? '')
        .join(' '),
    ),
  );
}

function vatsText(vats: VatInfo[]): string[] {
  return vats.map((v) => `${v.name} ${v.vatId} ${v.incarnation} ${v.state}`);
}

async function vatByName(cask: Cask, name: string): Promise<VatInfo> {
  const vat = (await cask.ask<VatInfo[]>('listVats')).find((v) => v.name === name);
  if (!vat) throw new Error(`no vat ${name}`);
  return vat;
}

async function count(cask: Cask): Promise<number> {
  const { result } = await cask.ask<{ result: { value: number } }>('send', {
    target: { vat: 'counter' },
    method: 'getCount',
  });
  return result.value;
}

const proberCluster = (name: string) => ({
  bootstrap: name,
  vats: { [name]: { bundle: testBundle('prober') } },
});

// ---- 1. Overview ----

test('overview shows the kernel status and follows new cranks live, without a reload', async ({
  cask,
}, testInfo) => {
  const { page } = cask;
  await page.goto(cask.url('panel.html'));
  const root = await openView(page, 'overview');
  const status = await cask.ask<Status & { lastCheckpoint?: unknown }>('status');
  expect(status.durableCrank).toBe(status.crank);
  await expect(root).toHaveAttribute('aria-busy', 'false');
  await expect(page.getByTestId('overview-vats')).toHaveText('6');
  await expect(page.getByTestId('overview-crank')).toHaveText(String(status.crank));
  await expect(page.getByTestId('overview-durable-crank')).toHaveText(
    String(status.durableCrank),
  );
  await expect(page.getByTestId('overview-run-queue')).toHaveText('0');
  await expect(page.getByTestId('overview-store-bytes')).toHaveText(
    formatBytes(status.storeBytes),
  );
  await expect(page.getByTestId('overview-last-checkpoint')).toHaveText(
    status.lastCheckpoint
      ? /^seq \d+ at \d\d:\d\d:\d\d$/u
      : /^(none yet|seq \d+( at \d\d:\d\d:\d\d)?)$/u,
  );
  await expect(page.getByTestId('overview-paused')).toHaveText('running');
  await expect(page.getByTestId('overview-error')).toHaveCount(0);

  // A mark on the page's window: it survives only if the page is never reloaded.
  await page.evaluate(() => {
    (window as unknown as { casked: string }).casked = 'this page';
  });
  await increment(cask);
  const after = await cask.ask<Status>('status');
  expect(after.crank).toBeGreaterThan(status.crank);
  await expect(page.getByTestId('overview-crank')).toHaveText(String(after.crank));
  // The increment's answer came once its crank was durable; a status event follows the
  // log write, so the panel catches up with it.
  expect(after.durableCrank).toBe(after.crank);
  await expect(page.getByTestId('overview-durable-crank')).toHaveText(
    String(after.durableCrank),
  );
  await expect(page.getByTestId('overview-run-queue')).toHaveText('0');
  expect(
    await page.evaluate(() => (window as unknown as { casked?: string }).casked),
  ).toBe('this page');
  await snap(page, testInfo, 'overview');
});

test('the overview pause toggle holds the run queue, and resuming runs what waited', async ({
  cask,
}, testInfo) => {
  const { page } = cask;
  const root = await openView(page, 'overview');
  const toggle = page.getByTestId('overview-pause-toggle');
  await expect(toggle).toHaveText('Pause run queue');
  await toggle.click();
  await expect(page.getByTestId('overview-paused')).toHaveText('paused');
  await expect(toggle).toHaveText('Resume run queue');
  await expect(root).toHaveAttribute('aria-busy', 'false');
  expect((await cask.ask<Status>('status')).paused).toBe(true);

  // A message queued while paused waits on the run queue.
  const before = await cask.ask<Status>('status');
  await cask.ask('send', {
    target: { vat: 'counter' },
    method: 'increment',
    wait: 'queued',
  });
  const held = await cask.ask<Status>('status');
  expect(held.runQueueLength).toBe(1);
  expect(held.crank).toBe(before.crank);
  await snap(page, testInfo, 'overview-paused');

  await toggle.click();
  await expect(page.getByTestId('overview-paused')).toHaveText('running');
  await expect(toggle).toHaveText('Pause run queue');
  await expect(root).toHaveAttribute('aria-busy', 'false');
  expect((await cask.ask<Status>('status')).paused).toBe(false);
  await cask.ask('whenIdle');
  // The held increment ran: 2 after the bootstrap, 3 now.
  expect(await count(cask)).toBe(3);
  const resumed = await cask.ask<Status>('status');
  await expect(page.getByTestId('overview-crank')).toHaveText(String(resumed.crank));
  await expect(page.getByTestId('overview-run-queue')).toHaveText('0');
  await expect(page.getByTestId('overview-error')).toHaveCount(0);
  await snap(page, testInfo, 'overview');
});

// ---- 2. Vats ----

test('vats: the table lists the default vats; a cluster launches from pasted JSON or an uploaded file; bad configs and bad JSON are refused with the table unchanged', async ({
  cask,
}, testInfo) => {
  const { page } = cask;
  const root = await openView(page, 'vats');
  const rows = page.getByTestId('vat-row');
  await expect(rows).toHaveCount(6);
  await expect(root).toHaveAttribute('aria-busy', 'false');
  expect(await vatRowsText(page)).toEqual(vatsText(await cask.ask('listVats')));
  for (const [i, name] of DEFAULT_VATS.entries()) {
    await expect(rows.nth(i).locator('td').first()).toHaveText(name);
    await expect(rows.nth(i)).toHaveAttribute('data-state', 'running');
  }

  const config = page.getByTestId('launch-config');
  const submit = page.getByTestId('launch-submit');
  const launchError = page.getByTestId('launch-error');
  const launchResult = page.getByTestId('launch-result');
  await expect(submit).toBeDisabled();

  // Pasted JSON with an inline bundle.
  await config.fill(JSON.stringify(proberCluster('prober')));
  await submit.click();
  await expect(launchResult).toContainText('"prober": "v7"');
  await expect(root).toHaveAttribute('aria-busy', 'false');
  await expect(rows).toHaveCount(7);
  await expect(vatRow(page, 'v7')).toHaveAttribute('data-state', 'running');
  await expect(vatRow(page, 'v7').locator('td').first()).toHaveText('prober');
  await expect(launchError).toHaveCount(0);
  const launched = await cask.ask<VatInfo[]>('listVats');
  expect(launched.map((v) => v.name)).toEqual([...DEFAULT_VATS, 'prober']);

  // Configs the kernel refuses: the field at fault is named under the form.
  const refusals: Array<[unknown, RegExp]> = [
    [
      { bootstrap: 'ok', vats: { ok: { sourceSpec: './x.js' }, 'b c': {} } },
      /invalid cluster config at vats\.b c: .*vat names are letters.*"b c"/u,
    ],
    [
      { bootstrap: 'nobody', vats: { somebody: { sourceSpec: './x.js' } } },
      /invalid cluster config at bootstrap: "nobody" is not one of the vats \(somebody\)/u,
    ],
    [
      { bootstrap: 'two', vats: { two: { sourceSpec: './a.js', bundleSpec: 'b' } } },
      /invalid cluster config at vats\.two: give exactly one of sourceSpec, bundleSpec or bundle/u,
    ],
  ];
  for (const [bad, message] of refusals) {
    await config.fill(JSON.stringify(bad));
    await submit.click();
    await expect(launchError).toHaveText(message);
    await expect(root).toHaveAttribute('aria-busy', 'false');
    await expect(launchResult).toHaveCount(0);
    await expect(rows).toHaveCount(7);
    expect(await vatRowsText(page)).toEqual(vatsText(launched));
  }
  await snap(page, testInfo, 'vats-invalid-config');

  // Text that is not JSON never reaches the kernel.
  await config.fill('{ "bootstrap": "prober", vats: ');
  await submit.click();
  await expect(launchError).toHaveText(/^invalid JSON: /u);
  await expect(rows).toHaveCount(7);
  expect(await cask.ask<VatInfo[]>('listVats')).toEqual(launched);

  // An uploaded .json file fills the form (clearing the error), and launches.
  const fromFile = JSON.stringify(proberCluster('uploaded'), null, 2);
  await page.getByTestId('launch-file').setInputFiles({
    name: 'uploaded-cluster.json',
    mimeType: 'application/json',
    buffer: Buffer.from(fromFile),
  });
  await expect(config).toHaveValue(fromFile);
  await expect(launchError).toHaveCount(0);
  await submit.click();
  await expect(launchResult).toContainText('"uploaded": "v8"');
  await expect(rows).toHaveCount(8);
  await expect(vatRow(page, 'v8').locator('td').first()).toHaveText('uploaded');
  await expect(vatRow(page, 'v8')).toHaveAttribute('data-state', 'running');
  await expect(root).toHaveAttribute('aria-busy', 'false');
  expect(await vatRowsText(page)).toEqual(vatsText(await cask.ask('listVats')));
  await snap(page, testInfo, 'vats');
});

test('vats: terminate asks for a reason and a confirmation, then marks the vat terminated with it; restart bumps the incarnation', async ({
  cask,
}, testInfo) => {
  const { page } = cask;
  const root = await openView(page, 'vats');
  const carol = await vatByName(cask, 'carol');
  const counter = await vatByName(cask, 'counter');
  const carolRow = vatRow(page, carol.vatId);
  const counterRow = vatRow(page, counter.vatId);
  await expect(carolRow).toHaveAttribute('data-state', 'running');

  // Cancel leaves the vat alone.
  await carolRow.getByTestId('vat-terminate').click();
  await expect(carolRow.getByTestId('vat-terminate-confirm')).toHaveText(
    'Terminate carol',
  );
  await carolRow.getByTestId('vat-terminate-cancel').click();
  await expect(carolRow.getByTestId('vat-terminate-confirm')).toHaveCount(0);
  await expect(carolRow).toHaveAttribute('data-state', 'running');

  const reason = 'retired by the panel test';
  await carolRow.getByTestId('vat-terminate').click();
  await carolRow.getByTestId('vat-terminate-reason').fill(reason);
  await carolRow.getByTestId('vat-terminate-confirm').click();
  await expect(carolRow).toHaveAttribute('data-state', 'terminated');
  await expect(carolRow.locator('td').nth(5)).toHaveText('terminated');
  await expect(carolRow.locator('td').nth(6)).toHaveText(reason);
  await expect(carolRow.getByTestId('vat-restart')).toHaveCount(0);
  await expect(carolRow.getByTestId('vat-terminate')).toHaveCount(0);
  await expect(root).toHaveAttribute('aria-busy', 'false');
  await expect(page.getByTestId('vats-error')).toHaveCount(0);
  expect(await vatByName(cask, 'carol')).toMatchObject({
    state: 'terminated',
    reason,
  });
  // Its vatstore is kept: the box to delete it was left unticked.
  expect((await vatByName(cask, 'carol')).vatstore.keys).toBeGreaterThan(0);

  await expect(counterRow.locator('td').nth(2)).toHaveText('0');
  await counterRow.getByTestId('vat-restart').click();
  await counterRow.getByTestId('vat-restart-confirm').click();
  await expect(counterRow.locator('td').nth(2)).toHaveText('1');
  await expect(counterRow).toHaveAttribute('data-state', 'running');
  await expect(root).toHaveAttribute('aria-busy', 'false');
  await expect(page.getByTestId('vats-error')).toHaveCount(0);
  expect((await vatByName(cask, 'counter')).incarnation).toBe(1);
  // The new incarnation carries the count on.
  expect(await increment(cask)).toBe(3);
  await snap(page, testInfo, 'vats');
});

// ---- 3. Vatstore ----

test('vatstore: pages through the ledger 100 keys at a time, narrows by prefix, and shows decoded values', async ({
  cask,
}, testInfo) => {
  const { page } = cask;
  // Accounts of their own in the ledger, until its vatstore runs past one page.
  for (let i = 0; i < 30; i += 1) {
    await cask.ask('send', {
      target: { vat: 'ledger' },
      method: 'deposit',
      args: [`owner-${String(i).padStart(2, '0')}`, i + 1],
    });
  }
  const ledger = await vatByName(cask, 'ledger');
  const counter = await vatByName(cask, 'counter');
  expect(ledger.vatstore.keys).toBeGreaterThan(100);
  expect(ledger.vatstore.keys).toBeLessThanOrEqual(200);
  const read = (params: object) =>
    cask.ask<VatstorePage>('readVatstore', { limit: 100, ...params });
  const first = await read({ vatId: ledger.vatId });
  const lastKey = first.entries.at(-1)?.key ?? '';
  const second = await read({ vatId: ledger.vatId, after: lastKey });
  expect(first.more).toBe(true);
  expect(second.more).toBe(false);

  const root = await openView(page, 'vatstore');
  const rows = page.getByTestId('vatstore-row');
  const pageLabel = page.getByTestId('vatstore-page');
  const prev = page.getByTestId('vatstore-prev');
  const next = page.getByTestId('vatstore-next');
  const rowKeys = () =>
    rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-key')));

  await page.getByTestId('vatstore-vat').selectOption(ledger.vatId);
  await expect(pageLabel).toHaveText('page 1, 100 keys');
  await expect(rows.first()).toHaveAttribute('data-key', first.entries[0]?.key ?? '');
  await expect(root).toHaveAttribute('aria-busy', 'false');
  expect(await rowKeys()).toEqual(first.entries.map((e) => e.key));
  await expect(prev).toBeDisabled();
  await expect(next).toBeEnabled();

  await next.click();
  await expect(pageLabel).toHaveText(`page 2, ${second.entries.length} keys`);
  await expect(rows.first()).toHaveAttribute('data-key', second.entries[0]?.key ?? '');
  await expect(root).toHaveAttribute('aria-busy', 'false');
  expect(await rowKeys()).toEqual(second.entries.map((e) => e.key));
  await expect(next).toBeDisabled();
  await expect(prev).toBeEnabled();
  await snap(page, testInfo, 'vatstore-page-2');

  await prev.click();
  await expect(pageLabel).toHaveText('page 1, 100 keys');
  await expect(rows.first()).toHaveAttribute('data-key', first.entries[0]?.key ?? '');
  await expect(root).toHaveAttribute('aria-busy', 'false');
  expect(await rowKeys()).toEqual(first.entries.map((e) => e.key));
  await expect(prev).toBeDisabled();

  // A prefix narrows the rows to the keys that start with it.
  const accounts = await read({ vatId: ledger.vatId, prefix: 'vom.o+d' });
  expect(accounts.entries.length).toBeGreaterThan(30);
  expect(accounts.entries.length).toBeLessThan(100);
  await page.getByTestId('vatstore-prefix').fill('vom.o+d');
  await page.getByTestId('vatstore-search').click();
  await expect(pageLabel).toHaveText(`page 1, ${accounts.entries.length} keys`);
  await expect(root).toHaveAttribute('aria-busy', 'false');
  expect(await rowKeys()).toEqual(accounts.entries.map((e) => e.key));
  await expect(next).toBeDisabled();

  await page.getByTestId('vatstore-prefix').fill('no-such-prefix.');
  await page.getByTestId('vatstore-search').click();
  await expect(pageLabel).toHaveText('page 1, 0 keys');
  await expect(rows).toHaveCount(0);
  await expect(
    view(page, 'vatstore').getByText('No keys starting with "no-such-prefix."'),
  ).toBeVisible();

  // The counter's count, marshalled in the vatstore, decoded in its own column.
  await page.getByTestId('vatstore-vat').selectOption(counter.vatId);
  await page.getByTestId('vatstore-prefix').fill('vc.1.s');
  await page.getByTestId('vatstore-search').click();
  await expect(pageLabel).toHaveText('page 1, 1 key');
  const countRow = page.locator('[data-testid="vatstore-row"][data-key="vc.1.scount"]');
  await expect(countRow.locator('td').nth(0)).toHaveText('vc.1.scount');
  await expect(countRow.locator('td').nth(1)).toHaveText('{"body":"#2","slots":[]}');
  await expect(countRow.locator('td').nth(2)).toHaveText('2');
  await expect(root).toHaveAttribute('aria-busy', 'false');
  await expect(page.getByTestId('vatstore-error')).toHaveCount(0);
  await snap(page, testInfo, 'vatstore');
});

// ---- 4. Cranks ----

test('cranks: an increment appears as a new row; clicking it shows old → new of the count; a crank without a delta says so', async ({
  cask,
}, testInfo) => {
  const { page } = cask;
  // Opened by its address this time.
  await page.goto(cask.url('panel.html#cranks'));
  const root = view(page, 'cranks');
  await expect(root).toBeVisible();
  await expect(page.getByTestId('tab-cranks')).toHaveAttribute('aria-current', 'page');
  const rows = page.getByTestId('crank-row');
  const { cranks: before } = await cask.ask<{ cranks: CrankInfo[] }>('recentCranks');
  await expect(rows).toHaveCount(before.length);

  const count = await increment(cask);
  const { cranks } = await cask.ask<{ cranks: CrankInfo[] }>('recentCranks');
  const delivery = cranks.findLast((c) => c.method === 'increment');
  if (!delivery) throw new Error('no increment crank');
  expect(delivery.crank).toBeGreaterThan(before.at(-1)?.crank ?? 0);
  // Newest first: the increment is at the top, live.
  const row = page.locator(`[data-testid="crank-row"][data-crank="${delivery.crank}"]`);
  await expect(row).toBeVisible();
  await expect(rows).toHaveCount(cranks.length);
  await expect(rows.first()).toHaveAttribute(
    'data-crank',
    String(cranks.at(-1)?.crank ?? 0),
  );
  await expect(row.locator('td').nth(6)).toHaveText('send');
  await expect(row.locator('td').nth(3)).toHaveText('increment');
  // A delivered message's outcome is its result's (e2e/panel-cranks.spec.ts).
  await expect(row).toHaveAttribute('data-outcome', 'fulfilled');

  await row.click();
  const delta = page.getByTestId('crank-delta');
  await expect(delta).toHaveAttribute('data-crank', String(delivery.crank));
  await expect(root).toHaveAttribute('aria-busy', 'false');
  const countKey = page.locator('[data-testid="delta-set"][data-key="vc.1.scount"]');
  // Decoded as the Vatstore view shows values; the capdata behind "raw".
  await expect(countKey.locator('.old')).toHaveText(String(count - 1));
  await expect(countKey.locator('.new')).toHaveText(String(count));
  await page.getByTestId('delta-raw').check();
  await expect(countKey.locator('.old')).toHaveText(
    `{"body":"#${count - 1}","slots":[]}`,
  );
  await expect(countKey.locator('.new')).toHaveText(`{"body":"#${count}","slots":[]}`);
  await expect(page.getByTestId('crank-delta-error')).toHaveCount(0);
  await snap(page, testInfo, 'cranks');

  // A delivery that changed nothing: an empty delta.
  const still = cranks.find((c) => c.kind === 'send' && c.deltaKeys === 0);
  if (!still) throw new Error('no delivery without changes');
  const stillRow = page.locator(`[data-testid="crank-row"][data-crank="${still.crank}"]`);
  await expect(stillRow.locator('td').nth(5)).toHaveText('0');
  await stillRow.click();
  await expect(delta).toHaveAttribute('data-crank', String(still.crank));
  await expect(delta.locator('p')).toHaveText(`vat ${still.vatId}: 0 set, 0 deleted`);
  await expect(root).toHaveAttribute('aria-busy', 'false');
  await expect(page.getByTestId('delta-set')).toHaveCount(0);
  await expect(page.getByTestId('crank-delta-error')).toHaveCount(0);
  await snap(page, testInfo, 'cranks-empty-delta');

  // A crank that never reached a vat (a message to a terminated vat's root) has no
  // delta at all: the kernel's refusal is shown.
  const carol = await vatByName(cask, 'carol');
  await cask.ask('terminateVat', { vatId: carol.vatId, reason: 'gone' });
  const sent = await cask.ask<{ result: { status: string } }>('send', {
    target: { kref: carol.rootKref },
    method: 'visit',
  });
  expect(sent.result.status).toBe('rejected');
  const { cranks: later } = await cask.ask<{ cranks: CrankInfo[] }>('recentCranks');
  const undelivered = later.at(-1);
  expect(undelivered).toMatchObject({ method: 'visit', outcome: 'no-delivery' });
  const undeliveredRow = page.locator(
    `[data-testid="crank-row"][data-crank="${undelivered?.crank}"]`,
  );
  // The kernel rejected its result: shown rejected.
  await expect(undeliveredRow).toHaveAttribute('data-outcome', 'rejected');
  await undeliveredRow.click();
  await expect(delta).toHaveAttribute('data-crank', String(undelivered?.crank));
  await expect(page.getByTestId('crank-delta-error')).toHaveText(
    new RegExp(`crank ${undelivered?.crank} has no delta`, 'u'),
  );
  await expect(root).toHaveAttribute('aria-busy', 'false');
  await expect(page.getByTestId('delta-set')).toHaveCount(0);
  await snap(page, testInfo, 'cranks-no-delta');
});

// ---- 5. Send ----

test('send: increment to the counter root settles with the next count; bad args are caught before sending; an unknown kref shows the kernel error', async ({
  cask,
}, testInfo) => {
  const { page } = cask;
  const root = await openView(page, 'send');
  const start = await count(cask);
  const result = page.getByTestId('send-result');
  const error = page.getByTestId('send-error');
  const submit = page.getByTestId('send-submit');
  const counter = await vatByName(cask, 'counter');

  await expect(page.getByTestId('send-target-kind')).toHaveValue('vat');
  await expect(page.getByTestId('send-vat').locator('option')).toHaveCount(6);
  await page.getByTestId('send-vat').selectOption('counter');
  await expect(submit).toBeDisabled();
  await page.getByTestId('send-method').fill('increment');
  await submit.click();
  await expect(result).toHaveAttribute('data-status', 'fulfilled');
  await expect(result.locator('p')).toHaveText(`${counter.rootKref}: fulfilled`);
  await expect(result.locator('pre')).toHaveText(String(start + 1));
  await expect(root).toHaveAttribute('aria-busy', 'false');
  await expect(error).toHaveCount(0);

  // Args are passed on.
  await page.getByTestId('send-args').fill('[10]');
  await submit.click();
  await expect(result.locator('pre')).toHaveText(String(start + 11));
  await snap(page, testInfo, 'send');

  // Args that are not a JSON array are refused here; nothing is sent.
  await page.getByTestId('send-args').fill('[1,');
  await submit.click();
  await expect(error).toHaveText(/^args: invalid JSON: /u);
  await expect(result).toHaveCount(0);
  await page.getByTestId('send-args').fill('{"by": 1}');
  await submit.click();
  await expect(error).toHaveText('args: must be a JSON array, e.g. [] or [1, "two"]');
  await expect(root).toHaveAttribute('aria-busy', 'false');
  expect(await count(cask)).toBe(start + 11);
  await snap(page, testInfo, 'send-bad-args');

  // To a kref the kernel does not know: its refusal, as it words it.
  await page.getByTestId('send-args').fill('[]');
  await page.getByTestId('send-target-kind').selectOption('kref');
  await page.getByTestId('send-kref').fill('ko9999');
  await submit.click();
  await expect(error).toHaveText(
    /no kernel object or promise ko9999 \(never created, or already collected\)/u,
  );
  await expect(root).toHaveAttribute('aria-busy', 'false');
  await expect(result).toHaveCount(0);
  expect(await count(cask)).toBe(start + 11);

  // And by kref to the counter's root it goes through.
  await page.getByTestId('send-kref').fill(counter.rootKref ?? '');
  await submit.click();
  await expect(result.locator('pre')).toHaveText(String(start + 12));
  await expect(error).toHaveCount(0);
  await snap(page, testInfo, 'send-kref');
});

// ---- 6. SQL ----

test('sql: a SELECT on vats shows its rows; an UPDATE is refused as read-only and changes nothing', async ({
  cask,
}, testInfo) => {
  const { page } = cask;
  const root = await openView(page, 'sql');
  const input = page.getByTestId('sql-input');
  const rows = page.getByTestId('sql-row');
  const error = page.getByTestId('sql-error');

  await input.fill('SELECT name, state FROM vats ORDER BY vat_id');
  await page.getByTestId('sql-run').click();
  await expect(page.getByTestId('sql-count')).toHaveText('6 rows');
  await expect(root).toHaveAttribute('aria-busy', 'false');
  await expect(page.getByTestId('sql-result').locator('th')).toHaveText([
    'name',
    'state',
  ]);
  await expect(rows).toHaveText(DEFAULT_VATS.map((name) => `${name}running`));
  await expect(error).toHaveCount(0);
  await snap(page, testInfo, 'sql');

  // Ctrl+Enter runs it too.
  await input.fill("UPDATE vats SET state = 'terminated'");
  await input.press('Control+Enter');
  await expect(error).toHaveText(/the SQL console is read-only/u);
  await expect(page.getByTestId('sql-result')).toHaveCount(0);
  await expect(root).toHaveAttribute('aria-busy', 'false');
  await snap(page, testInfo, 'sql-refused');

  await input.fill("SELECT count(*) AS running FROM vats WHERE state = 'running'");
  await page.getByTestId('sql-run').click();
  await expect(rows).toHaveText(['6']);
  await expect(error).toHaveCount(0);
  const vats = await cask.ask<VatInfo[]>('listVats');
  expect(vats.map((v) => v.state)).toEqual(DEFAULT_VATS.map(() => 'running'));
});

// ---- 7. Metrics ----

test('metrics: the charts plot the logged cranks, and grow with new ones', async ({
  cask,
}, testInfo) => {
  const { page } = cask;
  await openView(page, 'metrics');
  for (let i = 0; i < 3; i += 1) await increment(cask);
  const charts = ['chart-latency', 'chart-delta-bytes'];
  const { cranks } = await cask.ask<{ cranks: CrankInfo[] }>('recentCranks');
  expect(cranks.length).toBeGreaterThan(0);
  for (const chart of charts) {
    const figure = page.getByTestId(chart);
    await expect(figure).toHaveAttribute('data-points', String(cranks.length));
    await expect(figure.locator('svg polyline')).toHaveCount(1);
    await expect(figure.locator('figcaption')).toContainText(' last ');
  }
  await expect(page.getByTestId('metrics-error')).toHaveCount(0);
  await expect
    .poll(async () =>
      Number(await page.getByTestId('chart-sizes').getAttribute('data-points')),
    )
    .toBeGreaterThan(0);

  await increment(cask);
  const { cranks: more } = await cask.ask<{ cranks: CrankInfo[] }>('recentCranks');
  expect(more.length).toBeGreaterThan(cranks.length);
  for (const chart of charts) {
    await expect(page.getByTestId(chart)).toHaveAttribute(
      'data-points',
      String(more.length),
    );
  }
  await snap(page, testInfo, 'metrics');
});

// ---- 8. State ----

test('state: an exported file imported into a fresh profile carries the vats on, and the counter continues there', async ({
  cask,
}, testInfo) => {
  test.setTimeout(150_000);
  const { page } = cask;
  // Make this kernel unlike a fresh one: a vat of its own and a higher count.
  await cask.ask('launchCluster', { config: proberCluster('prober') });
  for (let i = 0; i < 3; i += 1) await increment(cask);
  await cask.ask('whenIdle');
  const exportedCount = await count(cask);
  expect(exportedCount).toBe(5);
  const vats = await cask.ask<VatInfo[]>('listVats');
  expect(vats).toHaveLength(7);

  const root = await openView(page, 'state');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('state-export').click(),
  ]);
  const file = testInfo.outputPath(download.suggestedFilename());
  await download.saveAs(file);
  await expect(page.getByTestId('state-export-result')).toHaveText(
    new RegExp(`^Saved ${escape(download.suggestedFilename())} \\(.+\\)\\.$`, 'u'),
  );
  await expect(root).toHaveAttribute('aria-busy', 'false');
  await expect(page.getByTestId('state-export-error')).toHaveCount(0);
  expect(readFileSync(file).length).toBeGreaterThan(0);
  await snap(page, testInfo, 'state-export');

  const other = await Cask.launch();
  try {
    await other.ask('whenIdle');
    const p = other.page;
    await p.goto(other.url('panel.html#state'));
    const otherRoot = view(p, 'state');
    await expect(otherRoot).toBeVisible();
    await p.getByTestId('state-import-file').setInputFiles(file);
    await expect(p.getByRole('alertdialog')).toContainText(
      `Replace the kernel's entire state with ${download.suggestedFilename()}`,
    );
    await p.getByTestId('state-import-confirm').click();
    await expect(p.getByTestId('state-import-result')).toHaveText(
      new RegExp(
        `^Imported ${escape(download.suggestedFilename())}: 7 vats, at crank \\d+\\.$`,
        'u',
      ),
    );
    await expect(otherRoot).toHaveAttribute('aria-busy', 'false');
    await expect(p.getByTestId('state-import-error')).toHaveCount(0);
    await expect(p.getByTestId('state-import-confirm')).toHaveCount(0);
    await snap(p, testInfo, 'state-import');

    expect(await increment(other)).toBe(exportedCount + 1);

    const vatsRoot = await openView(p, 'vats');
    await expect(p.getByTestId('vat-row')).toHaveCount(7);
    await expect(vatsRoot).toHaveAttribute('aria-busy', 'false');
    const imported = await other.ask<VatInfo[]>('listVats');
    expect(await vatRowsText(p)).toEqual(vatsText(imported));
    // The exporter's vats, each in a new incarnation of its own here.
    const same = (list: VatInfo[]) => list.map((v) => [v.name, v.vatId, v.state]);
    expect(same(imported)).toEqual(same(vats));
    expect(imported.map((v) => v.incarnation)).toEqual(
      vats.map((v) => v.incarnation + 1),
    );
    await snap(p, testInfo, 'vats-imported');
  } finally {
    await other.dispose();
  }
});

test('state: a corrupt file is refused with the error shown, and the kernel is left as it was', async ({
  cask,
}, testInfo) => {
  const { page } = cask;
  const before = await increment(cask);
  const vats = await cask.ask<VatInfo[]>('listVats');
  const status = await cask.ask<Status>('status');

  const root = await openView(page, 'state');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('state-export').click(),
  ]);
  const good = testInfo.outputPath(download.suggestedFilename());
  await download.saveAs(good);
  const bytes = readFileSync(good);
  const middle = bytes.length >> 1;
  bytes.writeUInt8(bytes.readUInt8(middle) ^ 0xff, middle);
  const corrupt = testInfo.outputPath('corrupt.cask');
  writeFileSync(corrupt, bytes);

  // Choosing a file asks first; cancel drops it.
  const chooser = page.getByTestId('state-import-file');
  await chooser.setInputFiles(corrupt);
  await expect(page.getByTestId('state-import-confirm')).toBeVisible();
  await page.getByTestId('state-import-cancel').click();
  await expect(page.getByTestId('state-import-confirm')).toHaveCount(0);

  await chooser.setInputFiles(corrupt);
  await page.getByTestId('state-import-confirm').click();
  await expect(page.getByTestId('state-import-error')).toHaveText(/checksum mismatch/u);
  await expect(root).toHaveAttribute('aria-busy', 'false');
  await expect(page.getByTestId('state-import-result')).toHaveCount(0);
  await snap(page, testInfo, 'state');

  expect(await count(cask)).toBe(before);
  expect(await cask.ask<VatInfo[]>('listVats')).toEqual(vats);
  const after = await cask.ask<Status>('status');
  expect(after.boot.id).toBe(status.boot.id);
  // The getCount above was one more crank, and nothing else ran.
  const overview = await openView(page, 'overview');
  await expect(page.getByTestId('overview-crank')).toHaveText(String(after.crank));
  await expect(page.getByTestId('overview-vats')).toHaveText('6');
  await expect(overview).toHaveAttribute('aria-busy', 'false');
  await openView(page, 'vats');
  await expect(page.getByTestId('vat-row')).toHaveCount(6);
  expect(await vatRowsText(page)).toEqual(vatsText(vats));
});

/** A string as a literal part of a regular expression. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
}
