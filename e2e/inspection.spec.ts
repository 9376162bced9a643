import { Cask } from './harness.ts';
import { expect, increment, test, type CrankInfo } from './fixtures.ts';

/** exportKernelState as the panel does it (surface-client), bytes back as base64. */
async function exportState(cask: Cask): Promise<string> {
  const { ok, bytes, error } = await cask.transfer({ type: 'cask:export' });
  if (!ok || !bytes) throw new Error(error);
  return bytes.toString('base64');
}

async function importState(
  cask: Cask,
  base64: string,
): Promise<{ ok: boolean; vats?: number; error?: string }> {
  return cask.transfer({ type: 'cask:import' }, Buffer.from(base64, 'base64'));
}

test('recent cranks are listed, and a crank delta shows each key before and after', async ({
  cask,
}) => {
  const count = await increment(cask);
  const { cranks } = await cask.ask<{ cranks: CrankInfo[] }>('recentCranks');
  const delivery = cranks.findLast((c) => c.method === 'increment');
  expect(delivery).toMatchObject({ kind: 'send', outcome: 'ok' });
  expect(delivery?.deltaKeys).toBeGreaterThan(0);
  const delta = await cask.ask<{
    vatId: string;
    sets: Array<{ key: string; old: string | null; new: string }>;
  }>('crankDelta', { crank: delivery?.crank });
  const countKey = delta.sets.find((s) => s.new === `{"body":"#${count}","slots":[]}`);
  expect(countKey?.old).toBe(`{"body":"#${count - 1}","slots":[]}`);
  const missing = await cask.request('crankDelta', { crank: 999_999 });
  expect(missing.error?.message).toMatch(
    /crank 999999 has no delta: it changed no vatstore, or the retained crank log no longer holds it/u,
  );
});

test('the SQL console reads the kernel database and refuses writes', async ({ cask }) => {
  const result = await cask.ask<{ columns: string[]; rows: unknown[][] }>('query', {
    sql: 'SELECT name, state FROM vats ORDER BY vat_id',
  });
  expect(result.columns).toEqual(['name', 'state']);
  expect(result.rows[0]).toEqual(['bootstrap', 'running']);
  for (const sql of [
    "UPDATE vats SET state = 'terminated'",
    'DROP TABLE vats',
    'WITH x AS (SELECT 1) DELETE FROM vats',
  ]) {
    const refused = await cask.request('query', { sql });
    expect(refused.ok).toBe(false);
    expect(refused.error?.message).toMatch(/read-only/u);
  }
  const after = await cask.ask<{ rows: unknown[][] }>('query', {
    sql: "SELECT count(*) FROM vats WHERE state = 'running'",
  });
  expect(after.rows).toEqual([[6]]);
});

test('vatstore values that are marshalled data come decoded', async ({ cask }) => {
  await increment(cask);
  const counter = (
    await cask.ask<Array<{ vatId: string; name: string }>>('listVats')
  ).find((v) => v.name === 'counter');
  const page = await cask.ask<{
    entries: Array<{ key: string; value: string; decoded?: unknown }>;
  }>('readVatstore', { vatId: counter?.vatId, prefix: 'vc.1.s' });
  expect(page.entries).toEqual([
    { key: 'vc.1.scount', value: '{"body":"#3","slots":[]}', decoded: 3 },
  ]);
});

test('a state file exported from one profile, imported into a fresh one, carries the vats and their stores; the counter continues there', async ({
  cask,
}) => {
  const count = await increment(cask);
  const file = await exportState(cask);
  const vats = await cask.ask<Array<{ name: string; vatstore: unknown }>>('listVats');
  const other = await Cask.launch();
  try {
    await other.ask('whenIdle');
    // A bad file is refused and changes nothing.
    const corrupt = Buffer.from(file, 'base64');
    const middle = corrupt.length >> 1;
    corrupt.writeUInt8(corrupt.readUInt8(middle) ^ 0xff, middle);
    const refused = await importState(other, corrupt.toString('base64'));
    expect(refused).toMatchObject({ ok: false });
    expect(refused.error).toMatch(/checksum mismatch/u);
    expect(await increment(other)).toBe(3);
    expect(await importState(other, file)).toMatchObject({ ok: true, vats: 6 });
    const imported =
      await other.ask<Array<{ name: string; vatstore: unknown }>>('listVats');
    expect(imported.map((v) => [v.name, v.vatstore])).toEqual(
      vats.map((v) => [v.name, v.vatstore]),
    );
    expect(await increment(other)).toBe(count + 1);
    // And it stays imported across a restart of that browser.
    await other.restartBrowser();
    expect(await increment(other)).toBe(count + 2);
  } finally {
    await other.dispose();
  }
});
