/**
 * The panel's Objects view and the Vats view's states and actions, in the built
 * extension, at 1280 and at 420 px (a docked DevTools): a vat's exports and imports with
 * the refcounts and holders the kernel's tables hold (read over the surface's `query`),
 * promises with state, decider and queued messages, the run queue in order while it is
 * paused, kref links (to the row, to the owner vat, to a prefilled Send); and the Vats
 * table's actions inside the viewport, each behind a confirm: restart, terminate with
 * and without deleting its state, deleting what a terminated vat kept, a suspended vat
 * with its reason.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page, TestInfo } from '@playwright/test';
import { DIST, testBundle, type Cask } from './harness.ts';
import { expect, test, type VatReport } from './fixtures.ts';

interface Rows {
  columns: string[];
  rows: unknown[][];
}

async function sql(cask: Cask, text: string): Promise<unknown[][]> {
  return (await cask.ask<Rows>('query', { sql: text })).rows;
}

async function vats(cask: Cask): Promise<VatReport[]> {
  return cask.ask<VatReport[]>('listVats');
}

async function vatByName(cask: Cask, name: string): Promise<VatReport> {
  const vat = (await vats(cask)).find((v) => v.name === name);
  if (!vat) throw new Error(`no vat ${name}`);
  return vat;
}

async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

/** Nothing of the page spills out sideways. */
async function expectNoOverflow(page: Page): Promise<void> {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
}

/** The element lies wholly inside the viewport's width, as the page is (not scrolled). */
async function expectInsideWidth(page: Page, locator: Locator): Promise<void> {
  const box = await locator.boundingBox();
  const width = page.viewportSize()?.width ?? 0;
  expect(box).not.toBeNull();
  expect(await page.evaluate(() => scrollX)).toBe(0);
  expect(box?.x ?? -1).toBeGreaterThanOrEqual(0);
  expect((box?.x ?? 0) + (box?.width ?? Infinity)).toBeLessThanOrEqual(width);
}

async function openTab(page: Page, view: string): Promise<Locator> {
  await page.getByTestId(`tab-${view}`).click();
  const root = page.locator(`[data-view="${view}"]`);
  await expect(root).toBeVisible();
  return root;
}

// ---- Objects ----

for (const width of [1280, 420]) {
  test(`objects at ${width} px: a vat's exports and imports with the kernel's refcounts and holders; a kref goes to its row and its vat`, async ({
    cask,
  }, testInfo) => {
    const { page } = cask;
    await page.setViewportSize({ width, height: 900 });
    const bootstrap = await vatByName(cask, 'bootstrap');
    const alice = await vatByName(cask, 'alice');
    const names = new Map((await vats(cask)).map((v) => [v.vatId, v.name]));
    // The kernel's own tables: bootstrap's c-list, each object's owner and counts.
    const clist = await sql(
      cask,
      `SELECT c.kref, c.vref, o.owner_vat, o.reachable, o.recognizable FROM clist c LEFT JOIN objects o ON o.kref = c.kref WHERE c.vat_id = '${bootstrap.vatId}'`,
    );
    expect(clist.length).toBeGreaterThan(5);
    // It imports alice's root.
    expect(clist.some(([kref]) => kref === alice.rootKref)).toBe(true);

    const root = await openTab(page, 'objects');
    await root.getByTestId('objects-vat').selectOption(bootstrap.vatId);
    const rows = root.getByTestId('clist-row');
    await expect(rows).toHaveCount(clist.length);
    for (const [kref, vref, owner, reachable, recognizable] of clist) {
      const row = root.locator(`[data-testid="clist-row"][data-kref="${String(kref)}"]`);
      const cells = row.locator('td');
      await expect(cells.nth(1)).toHaveText(String(vref));
      await expect(row).toHaveAttribute(
        'data-direction',
        String(vref).charAt(1) === '+' ? 'export' : 'import',
      );
      if (String(kref).startsWith('ko')) {
        await expect(cells.nth(3)).toHaveText(names.get(String(owner)) ?? '');
        await expect(cells.nth(4)).toHaveText(String(reachable));
        await expect(cells.nth(5)).toHaveText(String(recognizable));
      }
    }
    // Its own root: an export, held by no other vat.
    const own = root.locator(
      `[data-testid="clist-row"][data-kref="${bootstrap.rootKref}"]`,
    );
    await expect(own).toHaveAttribute('data-direction', 'export');
    await expect(own.locator('td').nth(1)).toHaveText('o+0');

    // Alice's root, from bootstrap's imports to its row in alice's c-list: an export
    // held by every vat the kernel lists as having it in its c-list.
    const importers = (
      await sql(
        cask,
        `SELECT vat_id FROM clist WHERE kref = '${alice.rootKref}' AND vat_id != '${alice.vatId}' ORDER BY vat_id`,
      )
    ).map(([vatId]) => names.get(String(vatId)));
    expect(importers).toContain('bootstrap');
    const [[reachable, recognizable]] = (await sql(
      cask,
      `SELECT reachable, recognizable FROM objects WHERE kref = '${alice.rootKref}'`,
    )) as [[number, number]];
    await root
      .locator(`[data-testid="clist-row"][data-kref="${alice.rootKref}"]`)
      .getByTestId('kref-link')
      .click();
    await expect(root.getByTestId('objects-vat')).toHaveValue(alice.vatId);
    const aliceRoot = root.locator(
      `[data-testid="clist-row"][data-kref="${alice.rootKref}"]`,
    );
    await expect(aliceRoot).toHaveClass(/selected/u);
    await expect(aliceRoot).toHaveAttribute('data-direction', 'export');
    await expect(aliceRoot.locator('td').nth(4)).toHaveText(String(reachable));
    await expect(aliceRoot.locator('td').nth(5)).toHaveText(String(recognizable));
    await expect(aliceRoot.locator('td').nth(6).getByTestId('vat-link')).toHaveText(
      importers as string[],
    );
    await snap(page, testInfo, `objects-${width}`);
    await expectNoOverflow(page);

    // Its owner's link opens the Vats view on alice's row.
    await aliceRoot.locator('td').nth(3).getByTestId('vat-link').click();
    await expect(page.locator('[data-view="vats"]')).toBeVisible();
    await expect(
      page.locator(`[data-testid="vat-row"][data-vat-id="${alice.vatId}"]`),
    ).toHaveClass(/selected/u);
  });
}

test('objects at 420 px: promises with state, decider and queued messages; the run queue in order while paused; a kref opens Send prefilled', async ({
  cask,
}, testInfo) => {
  const { page } = cask;
  await page.setViewportSize({ width: 420, height: 900 });
  const bob = await vatByName(cask, 'bob');
  const counter = await vatByName(cask, 'counter');
  // Bob promises a greeter he makes only when released; alice pipelines greet to it.
  await cask.ask('send', {
    target: { vat: 'alice' },
    method: 'pipelineLater',
    args: [{ $kref: bob.rootKref }, 'Yo', 'eve'],
    wait: 'queued',
  });
  await cask.ask('whenIdle');
  const waiting = await sql(
    cask,
    'SELECT q.kpid, p.state, p.decider_vat FROM promise_queue q JOIN promises p ON p.kpid = q.kpid',
  );
  expect(waiting).toEqual([[expect.stringMatching(/^kp\d+$/u), 'unresolved', bob.vatId]]);
  const kpid = String(waiting[0]?.[0]);

  // Paused, three messages wait on the run queue.
  await cask.ask('setPaused', { paused: true });
  for (const method of ['increment', 'getCount', 'increment']) {
    await cask.ask('send', { target: { vat: 'counter' }, method, wait: 'queued' });
  }
  const queued = await sql(cask, 'SELECT seq, kind, target FROM run_queue ORDER BY seq');
  expect(queued.map(([, kind, target]) => [kind, target])).toEqual([
    ['send', counter.rootKref],
    ['send', counter.rootKref],
    ['send', counter.rootKref],
  ]);

  const root = await openTab(page, 'objects');
  const promise = root.locator(`[data-testid="promise-row"][data-kpid="${kpid}"]`);
  await expect(promise).toHaveAttribute('data-state', 'unresolved');
  await expect(promise.locator('td').nth(2)).toHaveText('bob');
  await expect(promise.locator('td').nth(5)).toContainText('greet("eve")');
  // Narrowed to the unresolved, it stays; to the rejected, it goes.
  await root.getByTestId('promises-state').selectOption('rejected');
  await expect(promise).toHaveCount(0);
  await root.getByTestId('promises-state').selectOption('unresolved');
  await expect(promise).toHaveAttribute('data-state', 'unresolved');

  await expect(root.getByTestId('runqueue-summary')).toHaveAttribute(
    'data-paused',
    'true',
  );
  await expect(root.getByTestId('runqueue-summary')).toContainText('3 items, paused');
  const items = root.getByTestId('runqueue-row');
  await expect(items).toHaveCount(3);
  expect(
    await items.evaluateAll((rows) =>
      rows.map((r) => Number(r.getAttribute('data-seq'))),
    ),
  ).toEqual(queued.map(([seq]) => seq));
  await expect(items.nth(0).locator('td').nth(3)).toContainText('increment()');
  await expect(items.nth(1).locator('td').nth(3)).toContainText('getCount()');
  await expect(items.nth(2).locator('td').nth(3)).toContainText('increment()');
  await expect(items.nth(0).locator('td').nth(2)).toContainText(counter.rootKref);
  await expect(items.nth(0).locator('td').nth(2).getByTestId('vat-link')).toHaveText(
    'counter',
  );
  await root.getByTestId('runqueue-table').scrollIntoViewIfNeeded();
  await snap(page, testInfo, 'objects-queue-420');
  await expectNoOverflow(page);

  // The target's Send link: the Send view, aimed at that kref, the method filled in.
  await items.nth(0).locator('td').nth(2).getByTestId('kref-send').click();
  const send = page.locator('[data-view="send"]');
  await expect(send).toBeVisible();
  await expect(send.getByTestId('send-target-kind')).toHaveValue('kref');
  await expect(send.getByTestId('send-kref')).toHaveValue(counter.rootKref);
  await expect(send.getByTestId('send-method')).toHaveValue('increment');
  await cask.ask('setPaused', { paused: false });
  await send.getByTestId('send-submit').click();
  await expect(send.getByTestId('send-result')).toHaveAttribute(
    'data-status',
    'fulfilled',
  );
  await expect(send.getByTestId('send-result')).toContainText(counter.rootKref);
});

test("objects at 420 px: the timer service's pending wake-ups, who asked and how often", async ({
  cask,
}, testInfo) => {
  const { page } = cask;
  await page.setViewportSize({ width: 420, height: 900 });
  const cluster = JSON.parse(
    readFileSync(join(DIST, 'clusters/reminder-cluster.json'), 'utf8'),
  ) as unknown;
  await cask.ask('launchCluster', { config: cluster });
  const reminder = await vatByName(cask, 'reminder');
  // Paused, the repeater stays where it is while the view is read.
  await cask.ask('setPaused', { paused: true });
  const [row] = await sql(cask, 'SELECT timer_id, owner_vat, interval FROM timers');
  expect(row).toEqual([expect.any(Number), reminder.vatId, 2000]);

  const root = await openTab(page, 'objects');
  await expect(root.getByTestId('timers-summary')).toContainText('1 pending wake-up');
  const timer = root.locator(
    `[data-testid="timer-row"][data-timer-id="${String(row?.[0])}"]`,
  );
  await expect(timer.locator('td').nth(2)).toHaveText('reminder');
  await expect(timer.locator('td').nth(3)).toHaveText('every 2000 ms');
  await expect(timer.locator('td').nth(4).getByTestId('kref-link')).toHaveText(
    /^ko\d+$/u,
  );
  await root.getByTestId('timers').scrollIntoViewIfNeeded();
  await snap(page, testInfo, 'objects-timers-420');
  await expectNoOverflow(page);
  await cask.ask('setPaused', { paused: false });
});

// ---- Vats ----

for (const width of [1280, 420]) {
  test(`vats at ${width} px: the actions stay inside the viewport; restart, terminate with and without deleting its state, each behind a confirm; a suspended vat with its reason`, async ({
    cask,
  }, testInfo) => {
    const { page } = cask;
    await page.setViewportSize({ width, height: 900 });
    // A vat that fails to start: suspended, with why.
    const { vats: launched } = await cask.ask<{ vats: Record<string, string> }>(
      'launchCluster',
      {
        config: {
          bootstrap: 'keeper',
          vats: {
            keeper: { bundle: testBundle('keeper') },
            broken: { bundle: testBundle('ledger-forgets') },
          },
        },
      },
    );
    await cask.ask('whenIdle');
    const broken = (await vats(cask)).find((v) => v.vatId === launched.broken);
    expect(broken?.state).toBe('suspended');

    const root = await openTab(page, 'vats');
    const row = (vatId: string) =>
      root.locator(`[data-testid="vat-row"][data-vat-id="${vatId}"]`);
    await expect(root.getByTestId('vat-row')).toHaveCount(8);
    await expect(root).toHaveAttribute('aria-busy', 'false');
    await expectNoOverflow(page);
    // Every live vat's Restart and Terminate lie inside the viewport, unscrolled.
    for (const vat of await vats(cask)) {
      await expectInsideWidth(page, row(vat.vatId).getByTestId('vat-restart'));
      await expectInsideWidth(page, row(vat.vatId).getByTestId('vat-terminate'));
    }
    // The suspended vat: its state and reason, as the kernel has them.
    const suspended = row(broken?.vatId as string);
    await expect(suspended).toHaveAttribute('data-state', 'suspended');
    await expect(suspended.getByTestId('vat-state-help')).toHaveAttribute(
      'title',
      /suspended after a fault/u,
    );
    await expect(suspended.locator('td').nth(6)).toHaveText(broken?.reason as string);
    await snap(page, testInfo, `vats-${width}`);

    // Restart: cancel changes nothing; confirmed, a new incarnation.
    const counter = await vatByName(cask, 'counter');
    await row(counter.vatId).getByTestId('vat-restart').click();
    await expectInsideWidth(page, row(counter.vatId).getByTestId('vat-restart-confirm'));
    await row(counter.vatId).getByTestId('vat-restart-cancel').click();
    await expect(row(counter.vatId).getByTestId('vat-restart-confirm')).toHaveCount(0);
    expect((await vatByName(cask, 'counter')).incarnation).toBe(counter.incarnation);
    await row(counter.vatId).getByTestId('vat-restart').click();
    await row(counter.vatId).getByTestId('vat-restart-confirm').click();
    await expect(row(counter.vatId).locator('td').nth(2)).toHaveText(
      String(counter.incarnation + 1),
    );

    // Terminate the suspended vat, keeping its state: cancel first, then confirm.
    await suspended.getByTestId('vat-terminate').click();
    const confirm = suspended.getByTestId('vat-terminate-confirm');
    await expectInsideWidth(page, confirm);
    await expect(suspended.getByRole('alertdialog')).toContainText('rejected');
    await snap(page, testInfo, `vats-terminate-confirm-${width}`);
    await suspended.getByTestId('vat-terminate-cancel').click();
    await expect(confirm).toHaveCount(0);
    await expect(suspended).toHaveAttribute('data-state', 'suspended');
    await suspended.getByTestId('vat-terminate').click();
    await suspended.getByTestId('vat-terminate-reason').fill('kept for a look');
    await confirm.click();
    await expect(suspended).toHaveAttribute('data-state', 'terminated');
    await expect(suspended.locator('td').nth(6)).toHaveText('kept for a look');
    await expect(suspended.getByTestId('vat-restart')).toHaveCount(0);

    // Carol, terminated keeping her vatstore; what she kept is deleted only once confirmed.
    const carol = await vatByName(cask, 'carol');
    const carolRow = row(carol.vatId);
    await carolRow.getByTestId('vat-terminate').click();
    await expect(carolRow.getByTestId('vat-terminate-confirm')).toHaveText(
      'Terminate carol',
    );
    await carolRow.getByTestId('vat-terminate-confirm').click();
    await expect(carolRow).toHaveAttribute('data-state', 'terminated');
    const kept = (await vatByName(cask, 'carol')).vatstore.keys;
    expect(kept).toBeGreaterThan(0);
    await expect(carolRow.locator('td').nth(3)).toHaveText(String(kept));
    await carolRow.getByTestId('vat-delete-state').click();
    await expectInsideWidth(page, carolRow.getByTestId('vat-delete-state-confirm'));
    await carolRow.getByTestId('vat-delete-state-cancel').click();
    await expect(carolRow.getByTestId('vat-delete-state-confirm')).toHaveCount(0);
    expect((await vatByName(cask, 'carol')).vatstore.keys).toBe(kept);
    await carolRow.getByTestId('vat-delete-state').click();
    await carolRow.getByTestId('vat-delete-state-confirm').click();
    await expect(carolRow.locator('td').nth(3)).toHaveText('0');
    await expect(carolRow.getByTestId('vat-delete-state')).toHaveCount(0);
    expect((await vatByName(cask, 'carol')).vatstore.keys).toBe(0);

    // Terminate the ledger deleting its state at once.
    const ledger = await vatByName(cask, 'ledger');
    expect(ledger.vatstore.keys).toBeGreaterThan(0);
    await row(ledger.vatId).getByTestId('vat-terminate').click();
    await row(ledger.vatId).getByTestId('vat-terminate-delete').check();
    await expect(row(ledger.vatId).getByTestId('vat-terminate-confirm')).toHaveText(
      'Terminate ledger and delete its state',
    );
    await row(ledger.vatId).getByTestId('vat-terminate-confirm').click();
    await expect(row(ledger.vatId)).toHaveAttribute('data-state', 'terminated');
    expect(await vatByName(cask, 'ledger')).toMatchObject({
      state: 'terminated',
      vatstore: { keys: 0 },
    });
    await expect(page.getByTestId('vats-error')).toHaveCount(0);
    await snap(page, testInfo, `vats-after-${width}`);
    await expectNoOverflow(page);

    // A vat's objects link: the Objects view on its c-list.
    const bob = await vatByName(cask, 'bob');
    await row(bob.vatId).getByTestId('vat-objects-link').click();
    const objects = page.locator('[data-view="objects"]');
    await expect(objects.getByTestId('objects-vat')).toHaveValue(bob.vatId);
    await expect(
      objects.locator(`[data-testid="clist-row"][data-kref="${bob.rootKref}"]`),
    ).toHaveAttribute('data-direction', 'export');
  });
}
