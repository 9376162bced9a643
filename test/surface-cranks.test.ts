/**
 * The control surface's crank requests answered from the durable crank log
 * (extension/surface): `cranks` paged newest first with filters, a rejected message shown
 * rejected, what survives a restart of the kernel, and `crankDelta` decoded from the log
 * — against a Node kernel on a data directory, with no crank in the worker's memory (as
 * after a service-worker stop). The panel's side is e2e/panel-cranks.spec.ts.
 */
import initSqlJs from 'sql.js';
import { afterAll, describe, expect, it } from 'vitest';

import { handleSurfaceRequest, type SurfaceHooks } from '../extension/surface/index.ts';
import type { CrankPage } from '../extension/surface-protocol/index.ts';
import { makeNodeKernel, type NodeKernel } from '../node/host/index.ts';
import { nodeSurfaceHooks } from './fixtures/surface-hooks.ts';
import { removeTempDirs, tempDir } from './fixtures/temp-dirs.ts';
import { resolveCluster, sampleVat } from './kernel-harness.ts';

afterAll(removeTempDirs);

const SQL = await initSqlJs();

function hooksFor(node: NodeKernel): SurfaceHooks {
  return nodeSurfaceHooks(SQL, node, {
    // A worker that just started: nothing in memory, everything from the log.
    inspector: () => ({ recentCranks: () => [], crankDelta: () => undefined }),
  });
}

async function ask(node: NodeKernel, method: string, params: unknown) {
  return handleSurfaceRequest({ type: 'cask:request', method, params }, hooksFor(node));
}

async function result<T>(node: NodeKernel, method: string, params: unknown): Promise<T> {
  const answer = await ask(node, method, params);
  if (!answer.ok) throw new Error(`${method}: ${answer.error.message}`);
  return answer.result as T;
}

async function counterOn(dataDir: string, fresh: boolean): Promise<NodeKernel> {
  const node = await makeNodeKernel({ dataDir });
  if (fresh) {
    const { result: launched } = await node.kernel.launchCluster(
      await resolveCluster({ counter: { source: sampleVat('counter.js') } }, 'counter'),
    );
    await launched;
  } else {
    await node.kernel.resume();
  }
  return node;
}

interface DeltaAnswer {
  crank: number;
  from: 'memory' | 'log';
  sets: { key: string; old: string | null; new: string; newDecoded?: unknown }[];
}

describe('surface crank requests', { timeout: 60_000 }, () => {
  it('answers from the log: pages newest first, filters, rejected results, after a restart', async () => {
    const dataDir = await tempDir('cask-surface-cranks-');
    let node = await counterOn(dataDir, true);
    const root = node.kernel.rootOf('counter');
    for (let i = 0; i < 3; i += 1) await node.kernel.queueMessage(root, 'increment', []);
    const refused = await node.kernel.queueMessage(root, 'noSuchMethod', []);
    expect(refused.rejected).toBe(true);
    await node.kernel.whenIdle();

    const check = async () => {
      const all = await result<CrankPage>(node, 'cranks', {});
      const sends = all.cranks.filter((c) => c.method === 'increment');
      expect(sends).toHaveLength(3);
      for (const c of sends) {
        expect(c).toMatchObject({ kind: 'send', vatName: 'counter', outcome: 'ok' });
        expect(c.resultState).toBe('fulfilled');
        expect(c.target).toBe(root);
        expect(c.result).toMatch(/^kp\d+$/u);
        expect(c.durationMs).toBeGreaterThanOrEqual(0);
      }
      const numbers = all.cranks.map((c) => c.crank);
      expect(numbers).toEqual([...numbers].sort((a, b) => b - a));

      const rejected = await result<CrankPage>(node, 'cranks', { outcome: 'rejected' });
      expect(rejected.cranks.map((c) => c.method)).toEqual(['noSuchMethod']);
      expect(rejected.cranks[0]?.resultState).toBe('rejected');
      expect(rejected.cranks[0]?.rejection).toContain('noSuchMethod');

      const first = await result<CrankPage>(node, 'cranks', {
        method: 'INCR',
        limit: 2,
      });
      expect(first.cranks.map((c) => c.crank)).toEqual(
        sends.slice(0, 2).map((c) => c.crank),
      );
      expect(first).toMatchObject({ more: true, total: 3 });
      const second = await result<CrankPage>(node, 'cranks', {
        method: 'incr',
        before: first.cranks[1]?.crank,
      });
      expect(second.cranks.map((c) => c.crank)).toEqual([sends[2]?.crank]);
      expect(second.more).toBe(false);

      const byVat = await result<CrankPage>(node, 'cranks', {
        vat: 'counter',
        kind: 'send',
      });
      expect(
        byVat.cranks.every(
          (c) => c.vatId === node.kernel.state.getVatByName('counter')?.vatId,
        ),
      ).toBe(true);
      expect(byVat.total).toBe(5); // bootstrap, three increments, the refused one
      return sends;
    };
    const before = await check();

    // A new process on the same data directory: nothing in memory, all from the log.
    await node.close();
    node = await counterOn(dataDir, false);
    const after = await check();
    expect(after.map((c) => c.crank)).toEqual(before.map((c) => c.crank));

    const delta = await result<DeltaAnswer>(node, 'crankDelta', {
      crank: after[0]?.crank,
    });
    expect(delta.from).toBe('log');
    const count = delta.sets.find((s) => s.newDecoded === 3);
    expect(count, JSON.stringify(delta.sets)).toBeDefined();
    expect(count?.new).toBe('{"body":"#3","slots":[]}');
    expect(count?.old).toBe('{"body":"#2","slots":[]}');
    await node.close();
  });

  it('refuses bad params, naming the field', async () => {
    const node = await counterOn(await tempDir('cask-surface-cranks-'), true);
    const bad = [
      [{ limit: 0 }, 'params.limit'],
      [{ before: -1 }, 'params.before'],
      [{ outcome: 'great' }, 'params.outcome'],
      [{ kind: 'no such' }, 'params.kind'],
    ] as const;
    for (const [params, field] of bad) {
      const answer = await ask(node, 'cranks', params);
      expect(answer.ok).toBe(false);
      if (!answer.ok) expect(answer.error.message).toContain(field);
    }
    const unknown = await ask(node, 'cranks', { vat: 'nobody' });
    expect(unknown.ok).toBe(false);
    if (!unknown.ok)
      expect(unknown.error.message).toBe('no vat "nobody" (vats: counter)');
    const missing = await ask(node, 'crankDelta', { crank: 99_999 });
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.error.message).toContain('crank 99999 has no delta');
    await node.close();
  });
});
