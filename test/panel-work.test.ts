/**
 * What the panel's Send, Launch and SQL views lean on (extension/surface): the SQL
 * console tells a syntax error from a refused write, a launch with a misspelt key names
 * the key, what was expected and the nearest name (never superstruct's "Expected a value
 * of type `never`"), and a queued send with `pinResult` keeps its answer readable across
 * a kernel restart until the pin is released — against Node kernels with real workers.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseClusterConfig } from '../kernel/index.ts';
import { handleSurfaceRequest, type SurfaceHooks } from '../extension/surface/index.ts';
import { makeNodeKernel, type NodeKernel } from '../node/host/index.ts';
import { surfaceHooks } from './fixtures/surface-hooks.ts';
import { removeTempDirs, tempDir } from './fixtures/temp-dirs.ts';
import { resolveCluster, sampleVat } from './kernel-harness.ts';

const open: NodeKernel[] = [];
afterAll(async () => {
  for (const node of open) await node.close();
  await removeTempDirs();
});

function hooksFor(node: NodeKernel): SurfaceHooks {
  return surfaceHooks({
    host: async () =>
      ({ kernel: node.kernel }) as unknown as Awaited<ReturnType<SurfaceHooks['host']>>,
    resolveCluster: async () => {
      throw new Error('resolveCluster was reached: the config should have been refused');
    },
  });
}

async function ask(node: NodeKernel, method: string, params: unknown) {
  return handleSurfaceRequest({ type: 'cask:request', method, params }, hooksFor(node));
}

async function counter(dataDir?: string): Promise<NodeKernel> {
  const node = await makeNodeKernel(dataDir === undefined ? {} : { dataDir });
  open.push(node);
  const { result } = await node.kernel.launchCluster(
    await resolveCluster({ counter: { source: sampleVat('counter.js') } }, 'counter'),
  );
  await result;
  return node;
}

describe('query (the SQL console)', () => {
  it('reports a misspelt keyword as a syntax error naming sqlite message', async () => {
    const node = await counter();
    const answer = await ask(node, 'query', { sql: 'SELEC 1' });
    expect(answer.ok).toBe(false);
    if (answer.ok) return;
    expect(answer.error.message).toMatch(/SQL syntax error: near "SELEC": syntax error/u);
    expect(answer.error.message).not.toMatch(/read-only/u);
    // A syntax error inside a query is one too.
    const inside = await ask(node, 'query', { sql: 'SELECT FROM vats' });
    expect(inside.ok ? '' : inside.error.message).toMatch(/SQL syntax error: .*syntax/u);
  });

  it('still refuses a write as read-only, whatever it is phrased as', async () => {
    const node = await counter();
    for (const sql of [
      'DELETE FROM vats',
      'insert into nowhere values (1)',
      'WITH x AS (SELECT 1) DELETE FROM vatstore',
    ]) {
      const answer = await ask(node, 'query', { sql });
      expect(answer.ok ? '' : answer.error.message, sql).toMatch(/read-only/u);
    }
    const rows = await ask(node, 'query', { sql: 'SELECT count(*) AS n FROM vats' });
    expect(rows).toEqual({
      ok: true,
      result: { columns: ['n'], rows: [[1]], truncated: false },
    });
  });
});

describe('launchCluster errors', () => {
  it('names a misspelt key, says what was expected and suggests the nearest', async () => {
    const node = await counter();
    const cases: Array<[unknown, RegExp]> = [
      [
        { bootstrap: 'a', vats: { a: { bundelSpec: 'x' } } },
        /unknown field `bundelSpec` in vats\.a \(did you mean `bundleSpec`\?\); expected one of `sourceSpec`, `bundleSpec`, .*`network`/u,
      ],
      [
        { bootsrap: 'a', vats: { a: { bundleSpec: 'x' } } },
        /unknown field `bootsrap` at the top level \(did you mean `bootstrap`\?\); expected one of `bootstrap`, `vats`/u,
      ],
      [
        {
          bootstrap: 'a',
          vats: { a: { bundleSpec: 'x', network: { allowedHost: [] } } },
        },
        /unknown field `allowedHost` in vats\.a\.network \(did you mean `allowedHosts`\?\); expected `allowedHosts`/u,
      ],
    ];
    for (const [config, message] of cases) {
      const answer = await ask(node, 'launchCluster', { config });
      expect(answer.ok).toBe(false);
      const text = answer.ok ? '' : answer.error.message;
      expect(text).toMatch(message);
      expect(text).not.toMatch(/never/u);
      expect(() => parseClusterConfig(config)).toThrow(message);
    }
  });

  it('names a misspelt param of the request itself', async () => {
    const node = await counter();
    const answer = await ask(node, 'launchCluster', { confg: { bootstrap: 'a' } });
    expect(answer.ok ? '' : answer.error.message).toMatch(
      /launchCluster refused: params: unknown param `confg` \(did you mean `config`\?\); launchCluster takes `config`/u,
    );
    const none = await ask(node, 'launchCluster', {});
    expect(none.ok ? '' : none.error.message).toMatch(/missing `config`/u);
  });
});

describe('send with pinResult', () => {
  it('keeps the settlement readable across a restart until the pin is released', async () => {
    const dataDir = await tempDir('cask-panel-work-');
    const first = await counter(dataDir);
    first.kernel.pauseRunQueue();
    const queued = await ask(first, 'send', {
      target: { vat: 'counter' },
      method: 'increment',
      wait: 'queued',
      caller: 'panel',
      pinResult: true,
    });
    expect(queued.ok ? null : queued.error.message).toBeNull();
    const { kpid } = (queued.ok ? queued.result : {}) as { kpid: string };
    expect(first.kernel.pinsOf('panel')).toEqual([kpid]);
    expect(first.kernel.promiseStatus(kpid)).toEqual({ state: 'unresolved' });
    await first.close();
    open.splice(open.indexOf(first), 1);

    // The restarted kernel is not paused: the message runs, nobody waits on it, and
    // only the pin keeps its answer.
    const second = await makeNodeKernel({ dataDir });
    open.push(second);
    await second.kernel.resume();
    await second.kernel.whenIdle();
    expect(await ask(second, 'promiseStatus', { kpid })).toEqual({
      ok: true,
      result: { kpid, state: 'fulfilled', value: 1 },
    });
    expect(await ask(second, 'releasePins', { caller: 'panel', krefs: [kpid] })).toEqual({
      ok: true,
      result: { caller: 'panel', released: [kpid] },
    });
    await second.kernel.whenIdle();
    expect(await ask(second, 'promiseStatus', { kpid })).toEqual({
      ok: true,
      result: { kpid, state: 'unknown' },
    });
  });

  it('two panels sending at once (one caller, as every panel is): each answer is kept until its own pin is released', async () => {
    const node = await counter();
    node.kernel.pauseRunQueue();
    const send = () =>
      ask(node, 'send', {
        target: { vat: 'counter' },
        method: 'increment',
        wait: 'queued',
        pinResult: true,
      });
    const answers = await Promise.all([send(), send()]);
    const [a, b] = answers.map((x) => (x.ok ? (x.result as { kpid: string }).kpid : ''));
    expect(a).not.toBe(b);
    expect(node.kernel.pinsOf('surface')).toEqual([a, b]);
    node.kernel.unpauseRunQueue();
    await node.kernel.whenIdle();
    const values = await Promise.all(
      [a, b].map(async (kpid) => {
        const status = await ask(node, 'promiseStatus', { kpid });
        return status.ok ? (status.result as { value: number }).value : null;
      }),
    );
    expect(values.sort()).toEqual([1, 2]);
    // Panel A lets go of its answer: the kernel drops A's promise, B's is still there.
    expect(await ask(node, 'releasePins', { krefs: [a] })).toMatchObject({ ok: true });
    await node.kernel.whenIdle();
    expect(node.kernel.pinsOf('surface')).toEqual([b]);
    expect(node.store.all('SELECT kpid FROM promises ORDER BY kpid')).toEqual([[b]]);
    expect(await ask(node, 'promiseStatus', { kpid: b })).toMatchObject({
      ok: true,
      result: { state: 'fulfilled' },
    });
  });

  it('refuses pinResult without wait: queued', async () => {
    const node = await counter();
    const answer = await ask(node, 'send', {
      target: { vat: 'counter' },
      method: 'increment',
      pinResult: true,
    });
    expect(answer.ok ? '' : answer.error.message).toMatch(/pinResult goes with wait/u);
  });
});
