/**
 * Vat upgrade in the built extension: the default cluster's ledger goes from version 1
 * (vats/ledger.js) to version 2 (vats/ledger-v2.js, shipped as a bundle) through the
 * control surface and through the panel, keeping its accounts; a broken new version
 * (e2e/vats/ledger-forgets.js) is rolled back with the kernel's reason and version 1
 * answers on; the new version survives a service-worker stop and a browser restart; and
 * the vat goes back to version 1 by the bundle id its history keeps.
 */
import type { Locator, Page, TestInfo } from '@playwright/test';
import { testBundle, type Cask } from './harness.ts';
import { expect, test, type Status, type VatReport } from './fixtures.ts';

interface Versions {
  vatId: string;
  name: string;
  current: number;
  versions: Array<{ version: number; bundleId: string; shippedAs?: string }>;
}

interface Outcome {
  vatId: string;
  version: number;
  incarnationNumber: number;
  bundleId: string;
}

const V2 = 'bundles/ledger-v2.bundle.json';

/** Calls the ledger's root; its answer (a rejection fails the test). */
async function ledger(cask: Cask, method: string, ...args: unknown[]): Promise<unknown> {
  const { result } = await cask.ask<{ result: { status: string; value: unknown } }>(
    'send',
    { target: { vat: 'ledger' }, method, args },
  );
  if (result.status !== 'fulfilled') {
    throw new Error(`ledger.${method}: ${JSON.stringify(result.value)}`);
  }
  return result.value;
}

/** What `balances` answers: the accounts the bootstrap opened (alice, bob), and `ours`. */
type Balances = (ours: Record<string, string>) => Record<string, unknown>;

/** Two accounts of the tests' own beside the bootstrap's: ann 10, ben 3. */
async function openAccounts(cask: Cask): Promise<Balances> {
  const others = (await ledger(cask, 'balances')) as Record<string, unknown>;
  const balances: Balances = (ours) => ({ ...others, ...ours });
  await ledger(cask, 'deposit', 'ann', 10);
  await ledger(cask, 'deposit', 'ben', 3);
  expect(await ledger(cask, 'balances')).toEqual(balances({ ann: '10n', ben: '3n' }));
  return balances;
}

async function ledgerVat(cask: Cask): Promise<VatReport> {
  const vat = (await cask.ask<VatReport[]>('listVats')).find((v) => v.name === 'ledger');
  if (!vat) throw new Error('no ledger vat');
  return vat;
}

test.describe('upgrade through the surface', () => {
  test('the ledger goes from version 1 to 2 and keeps its balances', async ({ cask }) => {
    const balances = await openAccounts(cask);
    const before = await ledgerVat(cask);
    expect(before.version).toBe(1);
    expect(await ledger(cask, 'version')).toBe(1);
    const shipped = await cask.ask<{
      shipped: Array<{ name: string; bundleSpec: string }>;
    }>('listBundles');
    expect(shipped.shipped).toContainEqual(
      expect.objectContaining({ name: 'ledger-v2', bundleSpec: V2 }),
    );

    const outcome = await cask.ask<Outcome>('upgradeVat', {
      vat: 'ledger',
      bundleSpec: V2,
    });
    expect(outcome).toMatchObject({
      vatId: before.vatId,
      version: 2,
      incarnationNumber: before.incarnation + 1,
    });
    expect(await ledger(cask, 'version')).toBe(2);
    expect(await ledger(cask, 'balances')).toEqual(balances({ ann: '10n', ben: '3n' }));
    expect(await ledger(cask, 'transfer', 'ann', 'ben', 4)).toEqual({
      ann: '6n',
      ben: '7n',
    });
    expect(await ledger(cask, 'deposit', 'ann', 1)).toBe('7n');
    const after = await ledgerVat(cask);
    expect(after).toMatchObject({ state: 'running', version: 2 });
    const versions = await cask.ask<Versions>('vatVersions', { vat: before.vatId });
    expect(versions).toMatchObject({ name: 'ledger', current: 2 });
    expect(versions.versions.map((v) => [v.version, v.shippedAs])).toEqual([
      [1, 'ledger'],
      [2, 'ledger-v2'],
    ]);
    expect(versions.versions[1]?.bundleId).toBe(outcome.bundleId);
  });

  test('a version that fails to start is rolled back with the reason, and version 1 answers on', async ({
    cask,
  }) => {
    const balances = await openAccounts(cask);
    const before = await ledgerVat(cask);
    const answer = await cask.request('upgradeVat', {
      vat: before.vatId,
      bundle: testBundle('ledger-forgets'),
    });
    expect(answer.ok).toBe(false);
    expect(answer.error?.name).toBe('KernelError');
    expect(answer.error?.message).toMatch(
      new RegExp(
        `^upgrade of vat "ledger" \\(${before.vatId}\\) rolled back: its new version did not start: .*Account.*; its previous version runs on$`,
        'u',
      ),
    );
    expect(await ledger(cask, 'version')).toBe(1);
    expect(await ledger(cask, 'balances')).toEqual(balances({ ann: '10n', ben: '3n' }));
    expect(await ledger(cask, 'deposit', 'carl', 5)).toBe('5n');
    expect(await ledgerVat(cask)).toMatchObject({
      state: 'running',
      version: 1,
      incarnation: before.incarnation,
    });
    expect(
      (await cask.ask<Versions>('vatVersions', { vat: 'ledger' })).versions,
    ).toHaveLength(1);

    // Requests refused before the kernel sees them, naming the field.
    const source = await cask.request('upgradeVat', {
      vat: 'ledger',
      sourceSpec: './ledger-v2.js',
    });
    expect(source.error?.message).toMatch(
      /^upgradeVat refused: params\.sourceSpec: the extension has no bundler at run time/u,
    );
    const two = await cask.request('upgradeVat', {
      vat: 'ledger',
      bundleSpec: V2,
      bundleId: 'x',
    });
    expect(two.error?.message).toBe(
      'upgradeVat refused: params: give exactly one of bundleSpec, bundle, bundleId, bundleName; got bundleSpec and bundleId',
    );
    const network = await cask.request('upgradeVat', {
      vat: 'ledger',
      bundleSpec: 'https://example.com/ledger.json',
    });
    expect(network.error?.message).toMatch(
      /^upgradeVat refused: params\.bundleSpec: .*never fetches bundles from the network/u,
    );
    const params = await cask.request('upgradeVat', {
      vat: 'ledger',
      bundleSpec: V2,
      parameters: 'x',
    });
    expect(params.error?.message).toMatch(/^upgradeVat refused: params\.parameters: /u);
    const nobody = await cask.request('vatVersions', { vat: 'nobody' });
    expect(nobody.error?.message).toBe('no vat with id or name "nobody"');
    expect(await ledger(cask, 'version')).toBe(1);
  });

  test('what the old version was deciding is rejected with vatUpgraded, and messages queued around the upgrade reach the version in turn', async ({
    cask,
  }) => {
    // bob keeps this promise's resolver on its heap only.
    const { kpid } = await cask.ask<{ kpid: string }>('send', {
      target: { vat: 'bob' },
      method: 'makeGreeterLater',
      args: ['hi'],
      wait: 'queued',
    });
    await cask.ask('whenIdle');
    expect(await cask.ask('promiseStatus', { kpid })).toMatchObject({
      state: 'unresolved',
    });
    const bob = await cask.ask<Outcome>('upgradeVat', {
      vat: 'bob',
      bundleSpec: 'bundles/greeter.bundle.json',
    });
    expect(bob.version).toBe(2);
    expect(await cask.ask('promiseStatus', { kpid })).toEqual({
      kpid,
      state: 'rejected',
      value: {
        name: 'vatUpgraded',
        upgradeMessage: 'vat "bob" upgraded from version 1 to 2',
        incarnationNumber: bob.incarnationNumber,
      },
    });

    // Held on the run queue: a message, the upgrade, a message.
    await cask.ask('setPaused', { paused: true });
    const before = await cask.ask<{ kpid: string }>('send', {
      target: { vat: 'ledger' },
      method: 'version',
      wait: 'queued',
    });
    const upgraded = cask.request<Outcome>('upgradeVat', {
      vat: 'ledger',
      bundleSpec: V2,
    });
    await expect
      .poll(async () => (await cask.ask<Status>('status')).runQueueLength)
      .toBe(2);
    const after = await cask.ask<{ kpid: string }>('send', {
      target: { vat: 'ledger' },
      method: 'version',
      wait: 'queued',
    });
    await cask.ask('setPaused', { paused: false });
    expect((await upgraded).result?.version).toBe(2);
    await cask.ask('whenIdle');
    expect(await cask.ask('promiseStatus', { kpid: before.kpid })).toMatchObject({
      state: 'fulfilled',
      value: 1,
    });
    expect(await cask.ask('promiseStatus', { kpid: after.kpid })).toMatchObject({
      state: 'fulfilled',
      value: 2,
    });
  });

  test('a suspended vat is brought back by an upgrade, and what waited for it reaches the new version', async ({
    cask,
  }) => {
    // Its first version finds no accounts in baggage and fails to start.
    const { vats } = await cask.ask<{ vats: Record<string, string> }>('launchCluster', {
      config: {
        bootstrap: 'keeper',
        vats: {
          keeper: { bundle: testBundle('keeper') },
          broken: { bundle: testBundle('ledger-forgets') },
        },
      },
    });
    const vatId = vats.broken ?? '';
    await cask.ask('whenIdle');
    const suspended = (await cask.ask<VatReport[]>('listVats')).find(
      (v) => v.vatId === vatId,
    );
    expect(suspended).toMatchObject({ state: 'suspended', version: 1 });
    const waiting = await cask.ask<{ kpid: string }>('send', {
      target: { vat: 'broken' },
      method: 'version',
      wait: 'queued',
    });

    const outcome = await cask.ask<Outcome>('upgradeVat', {
      vat: vatId,
      bundleName: 'ledger',
    });
    expect(outcome.version).toBe(2);
    await cask.ask('whenIdle');
    expect(await cask.ask('promiseStatus', { kpid: waiting.kpid })).toMatchObject({
      state: 'fulfilled',
      value: 1,
    });
    expect(
      (await cask.ask<VatReport[]>('listVats')).find((v) => v.vatId === vatId),
    ).toMatchObject({ state: 'running', version: 2 });
  });

  test('the new version survives a service-worker stop and a browser restart', async ({
    cask,
  }) => {
    const balances = await openAccounts(cask);
    await cask.ask('upgradeVat', { vat: 'ledger', bundleSpec: V2 });
    await ledger(cask, 'transfer', 'ann', 'ben', 4);

    const { boot } = await cask.ask<Status>('status');
    await cask.stopServiceWorker();
    expect(await ledger(cask, 'version')).toBe(2);
    expect(await ledger(cask, 'balances')).toEqual(balances({ ann: '6n', ben: '7n' }));
    const woken = await cask.ask<Status>('status');
    expect(woken.boot.id).not.toBe(boot.id);

    await cask.restartBrowser();
    expect(await ledger(cask, 'version')).toBe(2);
    expect(await ledger(cask, 'transfer', 'ben', 'ann', 2)).toEqual({
      ben: '5n',
      ann: '8n',
    });
    const restarted = await cask.ask<Status>('status');
    expect(restarted.boot.id).not.toBe(woken.boot.id);
    expect(restarted.boot.firstRun).toBe(false);
    expect((await cask.ask<Versions>('vatVersions', { vat: 'ledger' })).current).toBe(2);
  });

  test('goes back to version 1 by the bundle id vatVersions keeps', async ({ cask }) => {
    const balances = await openAccounts(cask);
    await cask.ask('upgradeVat', { vat: 'ledger', bundleSpec: V2 });
    await ledger(cask, 'transfer', 'ann', 'ben', 4);
    const { versions } = await cask.ask<Versions>('vatVersions', { vat: 'ledger' });
    const first = versions[0]?.bundleId;
    expect(first).toBeTruthy();

    const back = await cask.ask<Outcome>('upgradeVat', {
      vat: 'ledger',
      bundleId: first,
    });
    expect(back).toMatchObject({ version: 3, bundleId: first });
    expect(await ledger(cask, 'version')).toBe(1);
    expect(await ledger(cask, 'balances')).toEqual(balances({ ann: '6n', ben: '7n' }));
    // Version 1's own ways are back: a deposit opens an account.
    expect(await ledger(cask, 'deposit', 'dee', 2)).toBe('2n');
    const after = await cask.ask<Versions>('vatVersions', { vat: 'ledger' });
    expect(after.current).toBe(3);
    expect(after.versions.map((v) => v.bundleId)).toEqual([
      first,
      versions[1]?.bundleId,
      first,
    ]);
  });
});

// ---- The panel ----

async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

function vatRow(page: Page, vatId: string): Locator {
  return page.locator(`[data-testid="vat-row"][data-vat-id="${vatId}"]`);
}

test('the panel upgrades the ledger after a confirmation: cancel changes nothing, confirm upgrades, a broken version shows the rollback reason', async ({
  cask,
}, testInfo) => {
  const balances = await openAccounts(cask);
  const { page } = cask;
  const vat = await ledgerVat(cask);
  await page.getByTestId('tab-vats').click();
  const root = page.locator('[data-view="vats"]');
  await expect(root).toBeVisible();
  const row = vatRow(page, vat.vatId);
  await expect(row.getByTestId('vat-version')).toHaveText('1');
  const form = page.getByTestId('vat-upgrade');
  const status = await cask.ask<Status>('status');

  // Parameters that are not a JSON object never reach the kernel.
  await row.getByTestId('vat-upgrade-open').click();
  await expect(form).toHaveAttribute('data-step', 'choose');
  await form.getByTestId('vat-upgrade-shipped').selectOption(V2);
  await form.getByTestId('vat-upgrade-parameters').fill('[1, 2');
  await form.getByTestId('vat-upgrade-review').click();
  await expect(form.getByTestId('vat-upgrade-error')).toHaveText(
    /^parameters: invalid JSON: /u,
  );
  await form.getByTestId('vat-upgrade-parameters').fill('[1, 2]');
  await form.getByTestId('vat-upgrade-review').click();
  await expect(form.getByTestId('vat-upgrade-error')).toHaveText(
    /^parameters: expected a JSON object/u,
  );
  await form.getByTestId('vat-upgrade-parameters').fill('');

  // The confirmation says what will happen; cancel leaves everything as it was.
  await form.getByTestId('vat-upgrade-review').click();
  await expect(form).toHaveAttribute('data-step', 'confirm');
  const summary = form.getByTestId('vat-upgrade-summary');
  await expect(summary).toContainText('from version 1 to version 2');
  await expect(summary).toContainText(V2);
  await expect(summary).toContainText('promises version 1 is deciding will be rejected');
  await expect(summary).toContainText('only on its heap');
  await expect(summary).toContainText('parameters stay as they are');
  await snap(page, testInfo, 'upgrade-confirm');
  await form.getByTestId('vat-upgrade-cancel').click();
  await expect(form).toHaveCount(0);
  expect((await cask.ask<Status>('status')).crank).toBe(status.crank);
  expect(await ledger(cask, 'version')).toBe(1);
  await expect(row.getByTestId('vat-version')).toHaveText('1');

  // Confirmed: upgraded, and the table and the history say so.
  await row.getByTestId('vat-upgrade-open').click();
  await form.getByTestId('vat-upgrade-shipped').selectOption(V2);
  await form.getByTestId('vat-upgrade-review').click();
  await form.getByTestId('vat-upgrade-confirm').click();
  await expect(form).toHaveAttribute('data-step', 'done');
  await expect(form.getByTestId('vat-upgrade-result')).toHaveText(
    /^Upgraded ledger to version 2 \(incarnation \d+, bundle /u,
  );
  await expect(form.getByTestId('vat-upgrade-error')).toHaveCount(0);
  await expect(row.getByTestId('vat-version')).toHaveText('2');
  expect(await ledger(cask, 'version')).toBe(2);
  expect(await ledger(cask, 'balances')).toEqual(balances({ ann: '10n', ben: '3n' }));
  await row.getByTestId('vat-history-toggle').click();
  const history = page.locator(`[data-testid="vat-history"][data-vat-id="${vat.vatId}"]`);
  const versionRows = history.getByTestId('vat-version-row');
  await expect(versionRows).toHaveCount(2);
  await expect(versionRows.nth(1)).toHaveAttribute('data-current', 'true');
  await expect(versionRows.nth(1)).toContainText('ledger-v2');
  await snap(page, testInfo, 'upgrade-done');
  await form.getByTestId('vat-upgrade-close').click();
  await expect(form).toHaveCount(0);

  // An uploaded broken version: the kernel's reason is shown as it gave it.
  await row.getByTestId('vat-upgrade-open').click();
  await form.getByTestId('vat-upgrade-source-upload').check();
  await form.getByTestId('vat-upgrade-file').setInputFiles({
    name: 'ledger-forgets.bundle.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(testBundle('ledger-forgets'))),
  });
  await expect(form).toContainText('ledger-forgets.bundle.json');
  await form.getByTestId('vat-upgrade-review').click();
  await expect(form.getByTestId('vat-upgrade-summary')).toContainText(
    'from version 2 to version 3',
  );
  await form.getByTestId('vat-upgrade-confirm').click();
  await expect(form).toHaveAttribute('data-step', 'done');
  await expect(form.getByTestId('vat-upgrade-error')).toHaveText(
    /^upgrade of vat "ledger" \(v\d+\) rolled back: its new version did not start: .*; its previous version runs on$/u,
  );
  await expect(form.getByTestId('vat-upgrade-result')).toHaveCount(0);
  await expect(row.getByTestId('vat-version')).toHaveText('2');
  expect(await ledger(cask, 'version')).toBe(2);
  await snap(page, testInfo, 'upgrade-rolled-back');
  await form.getByTestId('vat-upgrade-close').click();

  // Back to version 1, picked from the vat's history.
  await row.getByTestId('vat-upgrade-open').click();
  await form.getByTestId('vat-upgrade-source-history').check();
  await form.getByTestId('vat-upgrade-history').selectOption('1');
  await form.getByTestId('vat-upgrade-review').click();
  await expect(form.getByTestId('vat-upgrade-summary')).toContainText(
    'the code of its version 1',
  );
  await form.getByTestId('vat-upgrade-confirm').click();
  await expect(form.getByTestId('vat-upgrade-result')).toHaveText(
    /^Upgraded ledger to version 3 /u,
  );
  await expect(row.getByTestId('vat-version')).toHaveText('3');
  await expect(versionRows).toHaveCount(3);
  expect(await ledger(cask, 'version')).toBe(1);
  expect(await ledger(cask, 'balances')).toEqual(balances({ ann: '10n', ben: '3n' }));
  await expect(root).toHaveAttribute('aria-busy', 'false');
  await snap(page, testInfo, 'upgrade-history');
});
