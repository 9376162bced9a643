/**
 * The panel's Cranks and Metrics views over the durable crank log (issue 14): they are
 * still full after a service-worker stop and a browser restart; a message whose result
 * was rejected shows "rejected", not "ok"; a delta shows decoded values and, on demand,
 * the raw capdata; the filters narrow the rows; in a docked panel (420 px) the outcome,
 * ms and Δ columns are reachable in the table's own scrolling box with no overflow of
 * the page, and chart text is at least 11 px; screenshots at 1280 and 420 px.
 */
import type { Locator, Page, TestInfo } from '@playwright/test';
import type { Cask } from './harness.ts';
import { expect, increment, test, type VatReport } from './fixtures.ts';

async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

/** The default cluster's bootstrap increments the counter twice (vats/bootstrap.js). */
const before = 2;

/** Three increments and one message the counter has no method for; the counts. */
async function work(cask: Cask): Promise<number[]> {
  const counts = [await increment(cask), await increment(cask), await increment(cask)];
  const { result } = await cask.ask<{ result: { status: string } }>('send', {
    target: { vat: 'counter' },
    method: 'noSuchMethod',
  });
  expect(result.status).toBe('rejected');
  await cask.ask('whenIdle');
  return counts;
}

function cranksView(page: Page): Locator {
  return page.locator('[data-view="cranks"]');
}

async function openCranks(page: Page): Promise<Locator> {
  await page.getByTestId('tab-cranks').click();
  return cranksView(page);
}

/** The rows a method's cranks show in the Cranks view. */
function rowsOf(view: Locator, method: string): Locator {
  return view.getByTestId('crank-row').filter({
    has: view.page().locator('td', { hasText: new RegExp(`^${method}$`, 'u') }),
  });
}

async function expectHistory(page: Page): Promise<void> {
  const view = await openCranks(page);
  await expect(rowsOf(view, 'increment')).toHaveCount(before + 3);
  const rejected = rowsOf(view, 'noSuchMethod');
  await expect(rejected).toHaveAttribute('data-outcome', 'rejected');
  await expect(rejected.getByTestId('crank-outcome')).toContainText(/^rejected/u);
  await expect(rowsOf(view, 'increment').first()).toHaveAttribute(
    'data-outcome',
    'fulfilled',
  );
  await page.getByTestId('tab-metrics').click();
  const metrics = page.locator('[data-view="metrics"]');
  for (const chart of ['chart-latency', 'chart-delta-bytes', 'chart-timeline']) {
    // The default cluster's bootstrap cranks and the four sends, at least.
    await expect
      .poll(async () =>
        Number(await metrics.getByTestId(chart).getAttribute('data-points')),
      )
      .toBeGreaterThanOrEqual(4);
  }
}

test('Cranks and Metrics come from the crank log: after a worker stop and a browser restart', async ({
  cask,
}, testInfo) => {
  const counts = await work(cask);
  const { page } = cask;
  await page.setViewportSize({ width: 1280, height: 900 });
  await expectHistory(page);

  // Chrome stops the idle worker; a panel opened then still has every crank.
  await cask.stopServiceWorker();
  await page.reload();
  await expectHistory(page);

  await cask.restartBrowser();
  await cask.page.setViewportSize({ width: 1280, height: 900 });
  await expectHistory(cask.page);

  // The log answers the delta too (this worker ran none of these cranks).
  const view = await openCranks(cask.page);
  const last = rowsOf(view, 'increment').first();
  await last.click();
  const delta = view.getByTestId('crank-delta');
  await expect(delta).toHaveAttribute(
    'data-crank',
    (await last.getAttribute('data-crank')) as string,
  );
  const set = delta.getByTestId('delta-set').first();
  await expect(set.locator('pre.new')).toHaveText(String(counts[2]));
  await expect(set.locator('pre.old')).toHaveText(String(counts[1]));
  await expect(delta).not.toContainText('"body"');
  await delta.getByTestId('delta-raw').check();
  await expect(set.locator('pre.new')).toHaveText(`{"body":"#${counts[2]}","slots":[]}`);
  await snap(cask.page, testInfo, 'cranks-1280');
  await cask.page.getByTestId('tab-metrics').click();
  await snap(cask.page, testInfo, 'metrics-1280');
});

test('the filters narrow the crank rows, and new cranks join live', async ({ cask }) => {
  await work(cask);
  const { page } = cask;
  await page.setViewportSize({ width: 1280, height: 900 });
  const view = await openCranks(page);
  await expect(rowsOf(view, 'increment')).toHaveCount(before + 3);

  await view.getByTestId('crank-filter-outcome').selectOption('rejected');
  await expect(rowsOf(view, 'increment')).toHaveCount(0);
  await expect(rowsOf(view, 'noSuchMethod')).toHaveCount(1);
  // The default cluster's own rejections, if any, are rejected too.
  for (const outcome of await view
    .getByTestId('crank-row')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-outcome')))) {
    expect(outcome).toBe('rejected');
  }
  await view.getByTestId('crank-filter-outcome').selectOption('');

  await view.getByTestId('crank-filter-method').fill('INCR');
  await view.getByTestId('crank-filter-method').press('Enter');
  await expect(view.getByTestId('crank-row')).toHaveCount(before + 3);
  // A crank that matches joins while the filter is on; one that does not, does not.
  await increment(cask);
  await cask.ask('send', { target: { vat: 'counter' }, method: 'getCount' });
  await expect(view.getByTestId('crank-row')).toHaveCount(before + 4);
  await view.getByTestId('crank-filter-method').fill('');
  await view.getByTestId('crank-filter-method').press('Enter');

  const vats = await cask.ask<VatReport[]>('listVats');
  const bob = vats.find((v) => v.name === 'bob') as VatReport;
  await view.getByTestId('crank-filter-vat').selectOption(bob.vatId);
  await expect(view.getByTestId('crank-row').first()).toBeVisible();
  const shown = await view.getByTestId('crank-row').allTextContents();
  expect(shown.length).toBeGreaterThan(0);
  for (const text of shown) expect(text).toContain(`bob ${bob.vatId}`);

  await view.getByTestId('crank-filter-vat').selectOption('');
  await view.getByTestId('crank-filter-kind').selectOption('startVat');
  // The default cluster's six vats each started once.
  await expect(view.getByTestId('crank-row')).toHaveCount(6);
  for (const text of await view.getByTestId('crank-row').allTextContents()) {
    expect(text).toContain('startVat');
  }
});

test('docked at 420 px: the crank columns are reachable and chart text is readable', async ({
  cask,
}, testInfo) => {
  await work(cask);
  const { page } = cask;
  await page.setViewportSize({ width: 420, height: 900 });
  const view = await openCranks(page);
  await expect(rowsOf(view, 'increment')).toHaveCount(before + 3);
  const table = view.getByTestId('cranks-table');
  const header = (name: string) =>
    table.locator('th', { hasText: new RegExp(`^${name}$`, 'u') });
  // The table scrolls in its own box, whose scrollbar is on screen; the page does not.
  const box = await table.evaluate((el) => {
    const scroller = el.parentElement as HTMLElement;
    return {
      scrolls: getComputedStyle(scroller).overflowX,
      bottom: scroller.getBoundingClientRect().bottom,
      window: window.innerHeight,
      page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    };
  });
  expect(box.scrolls).toBe('auto');
  expect(box.bottom).toBeLessThanOrEqual(box.window);
  expect(box.page).toBeLessThanOrEqual(0);
  // The outcome as it is; ms and Δ keys by scrolling the box alone.
  await expect(header('Outcome')).toBeInViewport();
  await expect(rowsOf(view, 'noSuchMethod').locator('td').nth(1)).toBeInViewport();
  await table.evaluate((el) => {
    (el.parentElement as HTMLElement).scrollLeft = 10_000;
  });
  for (const name of ['ms', 'Δ keys']) await expect(header(name)).toBeInViewport();
  expect(await page.evaluate(() => window.scrollX)).toBe(0);
  await table.evaluate((el) => (el.parentElement as HTMLElement).scrollTo(0, 0));
  await snap(page, testInfo, 'cranks-420');

  await page.getByTestId('tab-metrics').click();
  const metrics = page.locator('[data-view="metrics"]');
  await expect(
    metrics.getByTestId('chart-latency').getByTestId('chart-point').first(),
  ).toBeAttached();
  // Every chart's text as shown: its font size times the SVG's scale, and its box. Read
  // in one task of the page: the charts redraw as cranks come, and a text found before a
  // redraw had no SVG by the time it was measured (evaluateAll finds, then measures).
  const sizes = await metrics.evaluate((view) =>
    [...view.querySelectorAll('svg text')].map((t) => {
      const svg = (t as SVGTextElement).ownerSVGElement as SVGSVGElement;
      const scale = svg.getBoundingClientRect().width / (svg.viewBox.baseVal.width || 1);
      return {
        text: t.textContent ?? '',
        px: parseFloat(getComputedStyle(t).fontSize) * scale,
        height: t.getBoundingClientRect().height,
      };
    }),
  );
  expect(sizes.length).toBeGreaterThan(8);
  for (const s of sizes) {
    expect(s.px, s.text).toBeGreaterThanOrEqual(11);
    expect(s.height, s.text).toBeGreaterThanOrEqual(11);
  }
  // Axes say what they measure, in which unit; points and bars have their values.
  await expect(metrics.getByTestId('chart-latency')).toContainText('duration (ms)');
  await expect(metrics.getByTestId('chart-delta-bytes')).toContainText('(bytes)');
  await expect(metrics.getByTestId('chart-sizes')).toContainText('size (bytes)');
  const title = await metrics
    .getByTestId('chart-timeline')
    .getByTestId('chart-point')
    .last()
    .locator('title')
    .textContent();
  expect(title).toMatch(/^crank \d+ · .+ ms$/u);
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
  await snap(page, testInfo, 'metrics-420');
});
