/**
 * The panel a developer keeps docked (issue 14, items 4 and 5): a send made while the run
 * queue is paused says so (and the header does), is answered once the queue is resumed,
 * and keeps its answer across tab switches and a service-worker stop; Launch keeps its
 * text and result across tab switches, marks the JSON error's line and names a misspelt
 * key with the expected ones; the SQL view reports a syntax error as one; the tab bar
 * never wraps (at 420 and 560 px the rest fold into "More ▾", usable by keyboard); and
 * every view (every tab the page has) at 1280 and 420 px without page-level horizontal
 * overflow, each screenshot attached.
 */
import type { Locator, Page, TestInfo } from '@playwright/test';
import type { Cask } from './harness.ts';
import { expect, increment, test } from './fixtures.ts';

/** A full-page screenshot in the test's output, attached to its results. */
async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

/** Opens a view by its tab (folded into "More ▾" or not) and waits until it is shown. */
async function openView(page: Page, name: string): Promise<Locator> {
  await page.getByTestId(`tab-${name}`).click();
  await expect(page.getByTestId(`tab-${name}`)).toHaveAttribute('aria-current', 'page');
  const root = page.locator(`[data-view="${name}"]`);
  await expect(root).toBeVisible();
  return root;
}

async function count(cask: Cask): Promise<number> {
  const { result } = await cask.ask<{ result: { value: unknown } }>('send', {
    target: { vat: 'counter' },
    method: 'getCount',
  });
  return result.value as number;
}

/** Fills the Send form for `method` on the counter's root and sends it. */
async function sendToCounter(page: Page, method: string): Promise<void> {
  await page.getByTestId('send-target-kind').selectOption('vat');
  await page.getByTestId('send-vat').selectOption('counter');
  await page.getByTestId('send-method').fill(method);
  await page.getByTestId('send-args').fill('[]');
  await page.getByTestId('send-submit').click();
}

/** No page-level horizontal overflow: whatever is wide scrolls in its own box. */
async function pageOverflow(page: Page): Promise<number> {
  return page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
}

for (const width of [1280, 420]) {
  test(`send at ${width} px while the run queue is paused: the header and the pending send say so; the answer comes after resume and stays across tab switches`, async ({
    cask,
  }, testInfo) => {
    const { page } = cask;
    await page.setViewportSize({ width, height: 900 });
    const start = await count(cask);
    const root = await openView(page, 'send');
    const paused = page.getByTestId('header-paused');
    await expect(paused).toHaveCount(0);
    await cask.ask('setPaused', { paused: true });
    await expect(paused).toBeVisible();
    await expect(paused).toHaveText('queue paused');

    await sendToCounter(page, 'increment');
    const pending = page.getByTestId('send-pending');
    await expect(pending).toHaveAttribute('data-paused', 'true');
    await expect(pending).toContainText('the run queue is paused');
    await expect(pending).toContainText('increment');
    await expect(root).toHaveAttribute('aria-busy', 'true');
    await snap(page, testInfo, `send-paused-${width}`);

    // A tab switch unmounts the view: the pending send is still there.
    await openView(page, 'sql');
    await openView(page, 'send');
    await expect(pending).toHaveAttribute('data-paused', 'true');

    await page.getByTestId('send-resume').click();
    const result = page.getByTestId('send-result');
    await expect(result).toHaveAttribute('data-status', 'fulfilled');
    await expect(result.locator('pre')).toHaveText(String(start + 1));
    await expect(paused).toHaveCount(0);
    await expect(pending).toHaveCount(0);
    await expect(root).toHaveAttribute('aria-busy', 'false');

    // And the answer, and the history, stay across tab switches.
    await openView(page, 'cranks');
    await openView(page, 'send');
    await expect(result.locator('pre')).toHaveText(String(start + 1));
    const rows = page.getByTestId('send-history-row');
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toHaveAttribute('data-state', 'fulfilled');
    await expect(rows.first()).toContainText('increment');

    // Re-send from the history: the next count.
    await rows.first().getByTestId('send-history-resend').click();
    await expect(result.locator('pre')).toHaveText(String(start + 2));
    await expect(rows).toHaveCount(2);
    expect(await count(cask)).toBe(start + 2);
    // Edit puts a send back in the form.
    await page.getByTestId('send-method').fill('getCount');
    await rows.first().getByTestId('send-history-edit').click();
    await expect(page.getByTestId('send-method')).toHaveValue('increment');
    await snap(page, testInfo, `send-history-${width}`);
    expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
  });
}

test('a pending send is answered across a service-worker stop, and its pin released', async ({
  cask,
}) => {
  const { page } = cask;
  const start = await count(cask);
  await openView(page, 'send');
  await cask.ask('setPaused', { paused: true });
  await expect(page.getByTestId('header-paused')).toBeVisible();
  await sendToCounter(page, 'increment');
  const pending = page.getByTestId('send-pending');
  await expect(pending).toHaveAttribute('data-paused', 'true');
  // Paused shows while the send is still on its way; the kpid comes with the answer.
  await expect(pending).toHaveAttribute('data-kpid', /^kp\d+$/u);
  const kpid = await pending.getAttribute('data-kpid');
  await expect(pending).toContainText(`(${kpid})`);
  const pins = await cask.ask<{ krefs: string[] }>('listPins');
  expect(pins.krefs).toContain(kpid);

  // The worker stops with the message queued; the new boot is not paused, runs it with
  // nobody waiting, and the pinned promise keeps the answer for the panel to find.
  await cask.stopServiceWorker();
  const result = page.getByTestId('send-result');
  await expect(result).toHaveAttribute('data-status', 'fulfilled', { timeout: 30_000 });
  await expect(result.locator('pre')).toHaveText(String(start + 1));
  await expect(page.getByTestId('connection')).toHaveText('live');
  await expect(page.getByTestId('header-paused')).toHaveCount(0);
  expect(await count(cask)).toBe(start + 1);
  await expect
    .poll(async () => (await cask.ask<{ krefs: string[] }>('listPins')).krefs)
    .not.toContain(kpid);
});

test('the method field suggests the target’s methods', async ({ cask }) => {
  const { page } = cask;
  await openView(page, 'send');
  await page.getByTestId('send-vat').selectOption('counter');
  await page.getByTestId('send-method').focus();
  const suggestions = page.getByTestId('send-method-suggestion');
  await expect(suggestions.filter({ hasText: /^increment$/u })).toHaveCount(1);
  await expect(suggestions.filter({ hasText: /^getCount$/u })).toHaveCount(1);
  await suggestions.filter({ hasText: /^getCount$/u }).click();
  await expect(page.getByTestId('send-method')).toHaveValue('getCount');
});

test('Launch keeps its text, error and result across tab switches; the JSON error’s line is marked; shipped bundles fill the config', async ({
  cask,
}, testInfo) => {
  const { page } = cask;
  const root = await openView(page, 'vats');
  const config = root.getByTestId('launch-config');
  const error = root.getByTestId('launch-error');
  const result = root.getByTestId('launch-result');

  // Not JSON: the error names where, and the line is shown marked.
  const broken = '{\n  "bootstrap": "greeter",\n  "vats": { greeter: 1 }\n}';
  await config.fill(broken);
  await root.getByTestId('launch-submit').click();
  await expect(error).toHaveText(/^invalid JSON: .*line 3/u);
  await expect(root.getByTestId('launch-error-line')).toHaveAttribute('data-line', '3');
  await expect(root.getByTestId('launch-error-line')).toContainText('"vats": { greeter');

  await openView(page, 'sql');
  await openView(page, 'vats');
  await expect(config).toHaveValue(broken);
  await expect(error).toHaveText(/^invalid JSON: .*line 3/u);

  // A shipped bundle, picked from the list, makes a config that launches.
  await config.fill('');
  await root.locator('[data-testid="launch-bundle"][data-name="greeter"]').click();
  const filled = JSON.parse(await config.inputValue()) as {
    bootstrap: string;
    vats: Record<string, { bundleSpec: string }>;
  };
  expect(filled.bootstrap).toBe('greeter');
  expect(filled.vats['greeter']?.bundleSpec).toMatch(/greeter/u);
  await root.getByTestId('launch-submit').click();
  await expect(result).toContainText('"greeter": "v7"');
  await expect(error).toHaveCount(0);
  await openView(page, 'overview');
  await openView(page, 'vats');
  await expect(result).toContainText('"greeter": "v7"');
  await expect(config).toHaveValue(JSON.stringify(filled, null, 2));
  await snap(page, testInfo, 'launch-kept');
});

test('a Launch typo names the key, the keys expected there and the nearest', async ({
  cask,
}, testInfo) => {
  const { page } = cask;
  const root = await openView(page, 'vats');
  const config = root.getByTestId('launch-config');
  const error = root.getByTestId('launch-error');
  const cases: Array<[unknown, RegExp]> = [
    [
      {
        bootstrap: 'g',
        vats: {
          g: {
            bundleSpec: 'bundles/greeter.bundle.json',
            network: { allowedHosts: [], allowHosts: [] },
          },
        },
      },
      /unknown field `allowHosts` in vats\.g\.network \(did you mean `allowedHosts`\?\); expected `allowedHosts`/u,
    ],
    [
      { bootstrap: 'g', vats: { g: { bundelSpec: 'bundles/greeter.bundle.json' } } },
      /unknown field `bundelSpec` in vats\.g \(did you mean `bundleSpec`\?\); expected one of `sourceSpec`, `bundleSpec`/u,
    ],
  ];
  for (const [bad, message] of cases) {
    await config.fill(JSON.stringify(bad));
    await root.getByTestId('launch-submit').click();
    await expect(error).toHaveText(message);
    await expect(error).not.toContainText('never');
  }
  await snap(page, testInfo, 'launch-typo');
});

test('SQL: a syntax error is reported as one, with sqlite’s message; a write is still refused as read-only', async ({
  cask,
}, testInfo) => {
  const { page } = cask;
  await openView(page, 'sql');
  const input = page.getByTestId('sql-input');
  const error = page.getByTestId('sql-error');
  await input.fill('SELEC 1');
  await page.getByTestId('sql-run').click();
  await expect(error).toHaveText(/SQL syntax error: near "SELEC": syntax error/u);
  await expect(error).not.toContainText('read-only');
  await snap(page, testInfo, 'sql-syntax-error');
  await input.fill("UPDATE vats SET state = 'terminated'");
  await page.getByTestId('sql-run').click();
  await expect(error).toHaveText(/the SQL console is read-only/u);
});

for (const width of [420, 560]) {
  test(`the tabs never wrap at ${width} px; the rest fold into More ▾, usable by keyboard`, async ({
    cask,
  }, testInfo) => {
    const { page } = cask;
    await page.setViewportSize({ width, height: 700 });
    const tabs = page.locator('nav [data-testid^="tab-"]');
    const more = page.getByTestId('tabs-more');
    const shown = page.locator('nav [data-testid^="tab-"]:not([aria-hidden="true"])');
    // The strip folds after it measures the new width (a ResizeObserver, then a render):
    // wait for that, then every tab shown is on one row and ends inside the strip.
    await expect(more).toBeVisible();
    await expect
      .poll(() =>
        shown.evaluateAll((els) => {
          const nav = (els[0] as HTMLElement).parentElement as HTMLElement;
          const right = nav.getBoundingClientRect().right;
          return els.every((el) => el.getBoundingClientRect().right <= right + 0.5);
        }),
      )
      .toBe(true);
    const tops = await shown.evaluateAll((els) =>
      els.map((el) => Math.round(el.getBoundingClientRect().top)),
    );
    expect(tops.length).toBeGreaterThan(1);
    expect(new Set(tops).size).toBe(1);
    const header = await page.locator('header').boundingBox();
    expect(header?.height ?? 0).toBeLessThan(40);
    const moreBox = await more.boundingBox();
    expect(Math.round(moreBox?.y ?? -1)).toBe(
      Math.round((await shown.first().boundingBox())?.y ?? -2),
    );
    expect(await pageOverflow(page)).toBeLessThanOrEqual(0);

    // Keyboard: Tab goes along the shown tabs to More ▾ (folded tabs are skipped).
    const shownCount = await shown.count();
    const folded = (await tabs.count()) - shownCount;
    expect(folded).toBeGreaterThan(0);
    await shown.first().focus();
    for (let i = 1; i < shownCount; i += 1) await page.keyboard.press('Tab');
    await expect(shown.last()).toBeFocused();
    await page.keyboard.press('Tab');
    await expect(more).toBeFocused();

    // Enter opens the menu on its first item; arrows move; Enter opens that view.
    await page.keyboard.press('Enter');
    const menu = page.getByTestId('tabs-menu');
    await expect(menu).toBeVisible();
    const items = menu.getByRole('menuitem');
    await expect(items).toHaveCount(folded);
    await expect(items.first()).toBeFocused();
    await snap(page, testInfo, `tabs-menu-${width}`);
    await page.keyboard.press('ArrowDown');
    await expect(items.nth(1)).toBeFocused();
    const second = ((await items.nth(1).getAttribute('data-testid')) ?? '').replace(
      /^more-/u,
      '',
    );
    await page.keyboard.press('Enter');
    await expect(menu).toHaveCount(0);
    await expect(page.getByTestId(`tab-${second}`)).toHaveAttribute(
      'aria-current',
      'page',
    );
    await expect(page.locator(`[data-view="${second}"]`)).toBeVisible();
    await expect(more).toBeFocused();
    await expect(more).toHaveClass(/active/u);

    // Space opens it too; Escape closes it, focus back on More ▾.
    await page.keyboard.press(' ');
    await expect(menu).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(menu).toHaveCount(0);
    await expect(more).toBeFocused();

    // A shown tab opens by keyboard as well.
    await shown.nth(1).focus();
    await page.keyboard.press('Enter');
    await expect(shown.nth(1)).toHaveAttribute('aria-current', 'page');
  });
}

test('dark theme follows the system outside DevTools', async ({ cask }) => {
  const { page } = cask;
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect
    .poll(() => page.evaluate(() => getComputedStyle(document.body).backgroundColor))
    .toBe('rgb(32, 33, 36)');
  await page.emulateMedia({ colorScheme: 'light' });
  await expect
    .poll(() => page.evaluate(() => getComputedStyle(document.body).backgroundColor))
    .toBe('rgb(255, 255, 255)');
});

for (const width of [1280, 420]) {
  test(`every view at ${width} px: a screenshot each, no page-level horizontal overflow`, async ({
    cask,
  }, testInfo) => {
    const { page } = cask;
    await increment(cask);
    await page.setViewportSize({ width, height: 900 });
    // Every tab the page has, including views added after this test was written.
    const names = (
      await page
        .locator('nav [data-testid^="tab-"]')
        .evaluateAll((els) => els.map((el) => el.getAttribute('data-testid') ?? ''))
    ).map((id) => id.replace(/^tab-/u, ''));
    expect(names.length).toBeGreaterThanOrEqual(10);
    const overflowing: string[] = [];
    for (const name of names) {
      const root = await openView(page, name);
      await expect(root).toHaveAttribute('aria-busy', 'false');
      await snap(page, testInfo, `view-${name}-${width}`);
      const over = await pageOverflow(page);
      if (over > 0) overflowing.push(`${name} (${over} px)`);
    }
    expect(overflowing).toEqual([]);
  });
}
