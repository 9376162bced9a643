/**
 * The control surface's history requests (extension/surface): history paged newest
 * first, label and unlabel, vatstoreAt and keyHistory with values decoded, restore, and
 * the refusals naming the field — against a Node kernel on a data directory with real
 * workers. The extension's own wiring (IndexedDB, the reboot, the fork file) is covered
 * by e2e/history.spec.ts.
 */
import initSqlJs from 'sql.js';
import { afterAll, describe, expect, it } from 'vitest';
import { capdataToJson } from '../kernel/index.ts';
import { handleSurfaceRequest, type SurfaceHooks } from '../extension/surface/index.ts';
import type { HistoryPage } from '../extension/surface-protocol/index.ts';
import { makeNodeKernel, type NodeKernel } from '../node/host/index.ts';
import { nodeSurfaceHooks } from './fixtures/surface-hooks.ts';
import { removeTempDirs, tempDir } from './fixtures/temp-dirs.ts';
import { resolveCluster, sampleVat } from './kernel-harness.ts';

afterAll(removeTempDirs);

const SQL = await initSqlJs();

function hooksFor(node: NodeKernel): SurfaceHooks {
  return nodeSurfaceHooks(SQL, node);
}

async function ask(node: NodeKernel, method: string, params: unknown) {
  return handleSurfaceRequest({ type: 'cask:request', method, params }, hooksFor(node));
}

async function result<T>(node: NodeKernel, method: string, params: unknown): Promise<T> {
  const answer = await ask(node, method, params);
  if (!answer.ok) throw new Error(`${method}: ${answer.error.message}`);
  return answer.result as T;
}

/** A counter incremented `n` times; the crank after each increment. */
async function counter(n: number): Promise<{ node: NodeKernel; cranks: number[] }> {
  const node = await makeNodeKernel({ dataDir: await tempDir('cask-surface-history-') });
  const { result: launched } = await node.kernel.launchCluster(
    await resolveCluster({ counter: { source: sampleVat('counter.js') } }, 'counter'),
  );
  await launched;
  const cranks: number[] = [];
  for (let i = 0; i < n; i += 1) {
    await node.kernel.queueMessage(node.kernel.rootOf('counter'), 'increment', []);
    await node.kernel.whenIdle();
    cranks.push(node.kernel.status().crank);
  }
  return { node, cranks };
}

const count = async (node: NodeKernel) =>
  capdataToJson(
    (await node.kernel.queueMessage(node.kernel.rootOf('counter'), 'getCount', [])).data,
  );

describe('surface history requests', { timeout: 60_000 }, () => {
  it('pages the retained commits newest first, with the space history takes', async () => {
    const { node, cranks } = await counter(4);
    const first = await result<HistoryPage>(node, 'history', { limit: 3 });
    expect(first.commits).toHaveLength(3);
    expect(first.more).toBe(true);
    expect(first.total).toBeGreaterThan(4);
    expect(first.commits[0]?.lastCrank).toBe(cranks.at(-1));
    const seqs = first.commits.map((c) => c.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(first.commits[0]?.vats).toContainEqual(
      expect.objectContaining({ name: 'counter' }),
    );
    expect(first.space.logBytes).toBeGreaterThan(0);
    const rest = await result<HistoryPage>(node, 'history', {
      limit: 1000,
      before: seqs.at(-1),
    });
    expect(rest.more).toBe(false);
    expect(rest.commits.length + first.commits.length).toBe(first.total);
    expect(rest.commits.every((c) => c.seq < (seqs.at(-1) as number))).toBe(true);
    await node.close();
  });

  it('labels and unlabels, refusing a taken name and an unknown one', async () => {
    const { node, cranks } = await counter(2);
    const two = cranks[1] as number;
    expect(await result(node, 'label', { crank: two, name: 'two' })).toMatchObject({
      crank: two,
      name: 'two',
    });
    const labelled = await result<HistoryPage>(node, 'history', {});
    expect(labelled.commits.find((c) => c.lastCrank === two)?.labels).toEqual(['two']);
    expect(await ask(node, 'label', { crank: cranks[0], name: 'two' })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/the label two already marks crank/u) },
    });
    expect(await result(node, 'unlabel', { name: 'two' })).toMatchObject({ crank: two });
    expect(await ask(node, 'unlabel', { name: 'two' })).toMatchObject({
      ok: false,
      error: { message: 'no label is named two (there are no labels)' },
    });
    expect(node.kernel.state.historyLabels()).toEqual([]);
    await node.close();
  });

  it('shows a vatstore at a commit and the changes of a key, decoded', async () => {
    const { node, cranks } = await counter(3);
    type Page = { entries: Array<{ key: string; value: string; decoded?: unknown }> };
    const at = await result<Page & { vatId: string }>(node, 'vatstoreAt', {
      crank: cranks[0],
      vat: 'counter',
      limit: 1000,
    });
    const countEntry = at.entries.find((e) => e.key.endsWith('count'));
    expect(countEntry?.decoded).toBe(1);
    const key = (countEntry as { key: string }).key;
    const { changes } = await result<{
      changes: Array<{ lastCrank: number; decoded?: unknown }>;
    }>(node, 'keyHistory', { vat: 'counter', key });
    expect(changes.slice(-3).map((c) => [c.lastCrank, c.decoded])).toEqual([
      [cranks[0], 1],
      [cranks[1], 2],
      [cranks[2], 3],
    ]);
    await node.close();
  });

  it('restores to a commit and back, the vats answering', async () => {
    const { node, cranks } = await counter(3);
    const restored = await result<{ restoreCrank: number; undoCrank: number }>(
      node,
      'restore',
      { crank: cranks[0] },
    );
    expect(await count(node)).toBe(1);
    await node.kernel.whenIdle();
    await result(node, 'restore', { crank: restored.undoCrank });
    expect(await count(node)).toBe(3);
    await node.close();
  });

  it('refuses bad params naming the field, and cranks not retained, changing nothing', async () => {
    const { node } = await counter(1);
    const before = node.kernel.status().crank;
    const refused = async (method: string, params: unknown, message: RegExp) =>
      expect(await ask(node, method, params)).toMatchObject({
        ok: false,
        error: { message: expect.stringMatching(message) },
      });
    await refused('restore', { crank: -1 }, /^restore refused: params\.crank: /u);
    await refused('restore', { crank: 'ten' }, /^restore refused: params\.crank: /u);
    await refused('restore', { crank: 99_999 }, /crank 99999 is not committed yet/u);
    await refused('label', { crank: 1, name: 'a b' }, /"a b" cannot be a label/u);
    await refused('history', { limit: 0 }, /^history refused: params\.limit: /u);
    await refused(
      'vatstoreAt',
      { crank: before, vat: 'nobody' },
      /no vat "nobody" at crank/u,
    );
    expect(node.kernel.status().crank).toBe(before);
    await node.close();
  });
});
