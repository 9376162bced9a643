/**
 * The control surface's Objects requests (extension/surface): `objects` (a vat's c-list
 * with counts and holders), `promises` (state, decider, subscribers, queued messages,
 * resolution) and `runQueue` (in order, while paused) — against a Node kernel running
 * the default cluster's vats in real workers, each answer checked against the kernel's
 * own state; and the refusals naming the field. The panel's view of them is covered by
 * e2e/panel-objects.spec.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleSurfaceRequest, type SurfaceHooks } from '../extension/surface/index.ts';
import type {
  ObjectsPage,
  PromisesPage,
  RunQueuePage,
} from '../extension/surface-protocol/index.ts';
import { compareKrefs } from '../kernel/state/index.ts';
import { makeNodeKernel, type NodeKernel } from '../node/host/index.ts';
import { surfaceHooks } from './fixtures/surface-hooks.ts';
import { removeTempDirs, tempDir } from './fixtures/temp-dirs.ts';
import { resolveCluster, sampleVat, testVat } from './kernel-harness.ts';

let node: NodeKernel;
let hooks: SurfaceHooks;

beforeAll(async () => {
  node = await makeNodeKernel({ dataDir: await tempDir('cask-surface-objects-') });
  hooks = surfaceHooks({
    host: async () =>
      ({ kernel: node.kernel }) as unknown as Awaited<ReturnType<SurfaceHooks['host']>>,
  });
  const { result } = await node.kernel.launchCluster(
    await resolveCluster(
      {
        bootstrap: { source: sampleVat('bootstrap.js') },
        alice: { source: sampleVat('introducer.js') },
        bob: { source: sampleVat('greeter.js'), parameters: { name: 'bob' } },
        carol: { source: sampleVat('visitor.js'), parameters: { name: 'carol' } },
        counter: { source: sampleVat('counter.js'), parameters: { start: 0 } },
        ledger: { source: sampleVat('ledger.js') },
      },
      'bootstrap',
    ),
  );
  await result;
  await node.kernel.whenIdle();
}, 60_000);

afterAll(async () => {
  await node?.close();
  await removeTempDirs();
});

async function ask(method: string, params: unknown) {
  return handleSurfaceRequest({ type: 'cask:request', method, params }, hooks);
}

async function result<T>(method: string, params: unknown = {}): Promise<T> {
  const answer = await ask(method, params);
  if (!answer.ok) throw new Error(`${method}: ${answer.error.message}`);
  return answer.result as T;
}

const vatId = (name: string) => node.kernel.state.getVatByName(name)?.vatId as string;

describe('surface objects requests', { timeout: 60_000 }, () => {
  it("lists a vat's exports and imports with the kernel's counts and holders", async () => {
    const state = node.kernel.state;
    const bootstrap = await result<ObjectsPage>('objects', { vatId: vatId('bootstrap') });
    expect(bootstrap.name).toBe('bootstrap');
    // Every c-list entry, in kref order (ko2 before ko10).
    expect(bootstrap.entries.map((e) => [e.kref, e.vref])).toEqual(
      state
        .clistEntries(vatId('bootstrap'))
        .map(([kref, vref]) => [kref, vref])
        .sort(([a], [b]) => compareKrefs(a as string, b as string)),
    );
    // It exports its root and imports the other vats' roots.
    const root = bootstrap.entries.find((e) => e.vref === 'o+0');
    expect(root).toMatchObject({
      kref: state.getVat(vatId('bootstrap'))?.rootKref,
      direction: 'export',
      kind: 'object',
      owner: vatId('bootstrap'),
    });
    const aliceRoot = state.getVat(vatId('alice'))?.rootKref as string;
    const imported = bootstrap.entries.find((e) => e.kref === aliceRoot);
    expect(imported).toMatchObject({
      direction: 'import',
      owner: vatId('alice'),
      reachableFlag: true,
    });
    expect(imported?.vref).toMatch(/^o-\d+$/u);

    // From the owner's side: the same object as an export, held by bootstrap.
    const alice = await result<ObjectsPage>('objects', { vatId: vatId('alice') });
    const exported = alice.entries.find((e) => e.kref === aliceRoot);
    const record = state.getObject(aliceRoot);
    expect(exported).toMatchObject({
      vref: 'o+0',
      direction: 'export',
      owner: vatId('alice'),
      reachable: record?.reachable,
      recognizable: record?.recognizable,
      importers: state.importersOf(aliceRoot),
    });
    expect(exported?.importers).toContain(vatId('bootstrap'));
    expect(record?.reachable).toBeGreaterThan(0);
  });

  it('pages a c-list after a kref, and refuses bad params by name', async () => {
    const all = await result<ObjectsPage>('objects', { vatId: vatId('bootstrap') });
    expect(all.more).toBe(false);
    expect(all.entries.length).toBeGreaterThan(2);
    const first = await result<ObjectsPage>('objects', {
      vatId: vatId('bootstrap'),
      limit: 2,
    });
    expect(first.more).toBe(true);
    const rest = await result<ObjectsPage>('objects', {
      vatId: vatId('bootstrap'),
      after: first.entries[1]?.kref,
      limit: 1000,
    });
    expect([...first.entries, ...rest.entries]).toEqual(all.entries);

    const refused = async (method: string, params: unknown, message: RegExp) => {
      const answer = await ask(method, params);
      expect(answer.ok).toBe(false);
      if (!answer.ok) expect(answer.error.message).toMatch(message);
    };
    await refused('objects', { vatId: 'v999' }, /^no vat v999; the vats are v\d/u);
    await refused('objects', {}, /^objects refused: params\.vatId: /u);
    await refused(
      'objects',
      { vatId: 'v1', after: 'x1' },
      /^objects refused: params\.after: /u,
    );
    await refused('objects', { vatId: 'v1', limit: 5000 }, /params\.limit: /u);
    await refused(
      'promises',
      { state: 'pending' },
      /^promises refused: params\.state: /u,
    );
    await refused('promises', { after: 'ko1' }, /^promises refused: params\.after: /u);
    await refused('runQueue', { limit: 0 }, /^runQueue refused: params\.limit: /u);
  });

  it('shows a promise with its decider and the message queued on it', async () => {
    const bobRoot = node.kernel.state.getVat(vatId('bob'))?.rootKref as string;
    // Bob promises a greeter he makes only on release(); alice pipelines greet to it.
    await result('send', {
      target: { vat: 'alice' },
      method: 'pipelineLater',
      args: [{ $kref: bobRoot }, 'Yo', 'eve'],
      wait: 'queued',
    });
    await node.kernel.whenIdle();
    const { promises } = await result<PromisesPage>('promises', {
      state: 'unresolved',
      limit: 1000,
    });
    const waiting = promises.find((p) => p.queued.some((m) => m.method === 'greet'));
    expect(waiting).toMatchObject({
      state: 'unresolved',
      decider: vatId('bob'),
      queuedCount: 1,
    });
    expect(waiting?.queued[0]?.args).toEqual(['eve']);
    const record = node.kernel.state.getPromise(waiting?.kpid as string);
    expect(waiting?.refcount).toBe(record?.refcount);
    expect(waiting?.subscribers).toEqual(
      node.kernel.state.subscribersOf(waiting?.kpid as string),
    );
    expect(promises.every((p) => p.state === 'unresolved')).toBe(true);

    // Released: the promise settles to the greeter, the greet runs.
    await result('send', { target: { vat: 'bob' }, method: 'release' });
    await node.kernel.whenIdle();
    const after = await result<PromisesPage>('promises', { limit: 1000 });
    const settled = after.promises.find((p) => p.kpid === waiting?.kpid);
    // Collected once nothing holds it, or shown fulfilled with the greeter.
    if (settled) {
      expect(settled.state).toBe('fulfilled');
      expect(settled.value).toMatchObject({ iface: expect.stringContaining('Greeter') });
    }
    expect(after.promises.some((p) => p.queued.some((m) => m.method === 'greet'))).toBe(
      false,
    );
  });

  it('lists the run queue in the order it runs while it is paused', async () => {
    await result('setPaused', { paused: true });
    try {
      const sent: string[] = [];
      for (const method of ['increment', 'getCount', 'increment']) {
        const { kpid } = await result<{ kpid: string }>('send', {
          target: { vat: 'counter' },
          method,
          wait: 'queued',
        });
        sent.push(kpid);
      }
      const page = await result<RunQueuePage>('runQueue');
      expect(page.paused).toBe(true);
      expect(page.length).toBe(3);
      expect(
        page.items.map((i) => [i.kind, i.message?.method, i.message?.result]),
      ).toEqual([
        ['send', 'increment', sent[0]],
        ['send', 'getCount', sent[1]],
        ['send', 'increment', sent[2]],
      ]);
      const counterRoot = node.kernel.state.getVat(vatId('counter'))?.rootKref;
      expect(page.items.every((i) => i.target === counterRoot)).toBe(true);
      const seqs = page.items.map((i) => i.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      // Paged after a seq.
      const second = await result<RunQueuePage>('runQueue', {
        after: seqs[0],
        limit: 1,
      });
      expect(second.items.map((i) => i.seq)).toEqual([seqs[1]]);
      expect(second.more).toBe(true);
      expect(page.held).toEqual([]);
    } finally {
      await result('setPaused', { paused: false });
    }
    await node.kernel.whenIdle();
    expect((await result<RunQueuePage>('runQueue')).items).toEqual([]);
  });

  it('lists the messages held for a suspended vat, with the vat', async () => {
    // A vat that fails to start is suspended; what is sent to it waits, held.
    await node.kernel.launchCluster(
      await resolveCluster(
        { broken: { source: testVat('bad-start.js'), parameters: { fail: true } } },
        'broken',
      ),
    );
    await node.kernel.whenIdle();
    const broken = node.kernel.state.getVatByName('broken');
    expect(broken?.state).toBe('suspended');
    const { kpid } = await result<{ kpid: string }>('send', {
      target: { vat: 'broken' },
      method: 'ping',
      wait: 'queued',
    });
    await node.kernel.whenIdle();
    const page = await result<RunQueuePage>('runQueue');
    expect(page.items).toEqual([]);
    // The bootstrap message the launch sent it, then the ping, in the order they came.
    const held = page.held.filter((i) => i.kind === 'send');
    expect(held.map((i) => [i.heldFor, i.target, i.message?.method])).toEqual([
      [broken?.vatId, broken?.rootKref, 'bootstrap'],
      [broken?.vatId, broken?.rootKref, 'ping'],
    ]);
    expect(held[1]?.message).toMatchObject({ args: [], result: kpid });
    expect(page.held.map((i) => i.seq)).toEqual(
      node.kernel.state.heldFor(broken?.vatId as string).map((i) => i.seq),
    );
  });
});
