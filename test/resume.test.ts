/**
 * A kernel in a data directory comes back where it stopped: vats relaunched from their
 * stored state, baggage intact, no second bootstrap, and whatever only the old heap could
 * settle settled with a clear error.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { removeTempDirs, tempDir } from './fixtures/temp-dirs.ts';
import { capdataToJson, type CrankRecord, type KRef } from '../kernel/index.ts';
import { makeNodeKernel } from '../node/host/index.ts';
import { makeNodeVatLauncher } from '../node/vat-worker/index.ts';
import { resolveCluster, sampleVat } from './kernel-harness.ts';

afterAll(removeTempDirs);

const cluster = (vats: Record<string, string>, bootstrap: string) =>
  resolveCluster(
    Object.fromEntries(
      Object.entries(vats).map(([name, file]) => [name, { source: sampleVat(file) }]),
    ),
    bootstrap,
  );

async function open(dataDir: string) {
  const cranks: CrankRecord[] = [];
  const host = await makeNodeKernel({ dataDir, onCrank: (r) => cranks.push(r) });
  const call = async (target: KRef, method: string, ...args: unknown[]) => {
    const s = await host.kernel.queueMessage(target, method, args);
    return { rejected: s.rejected, value: capdataToJson(s.data) };
  };
  return { ...host, cranks, call };
}

describe('resume from a data directory', () => {
  it('continues a counter kept in baggage, without calling bootstrap again', async () => {
    const dataDir = await tempDir('cask-resume-');
    const first = await open(dataDir);
    expect(first.isNew).toBe(true);
    const { result } = await first.kernel.launchCluster(
      await cluster({ counter: 'counter.js' }, 'counter'),
    );
    expect(capdataToJson((await result).data)).toBe(0);
    const counter = first.kernel.rootOf('counter');
    expect((await first.call(counter, 'increment')).value).toBe(1);
    expect((await first.call(counter, 'increment')).value).toBe(2);
    await first.close();

    const second = await open(dataDir);
    expect(second.isNew).toBe(false);
    // The clean close wrote a checkpoint: the restart opens it instead of replaying.
    expect(second.recovery?.checkpointSeq).toBeGreaterThan(0);
    await second.kernel.resume();
    expect((await second.call(counter, 'increment')).value).toBe(3);
    expect(second.cranks.filter((c) => c.method === 'bootstrap')).toEqual([]);
    expect(second.kernel.state.getVatByName('counter')?.incarnation).toBe(1);
    await second.close();
  });

  it('starts only the vats that get a delivery, each at its first, and all at once when asked', async () => {
    const dataDir = await tempDir('cask-resume-');
    const first = await open(dataDir);
    const { result } = await first.kernel.launchCluster(
      await cluster({ counter: 'counter.js', other: 'counter.js' }, 'counter'),
    );
    await result;
    const counter = first.kernel.rootOf('counter');
    const other = first.kernel.rootOf('other');
    expect((await first.call(counter, 'increment')).value).toBe(1);
    expect((await first.call(other, 'increment', 5)).value).toBe(5);
    await first.close();

    const counting = (launched: string[]) => {
      const launcher = makeNodeVatLauncher();
      return {
        launch: (vatId: string) => {
          launched.push(vatId);
          return launcher.launch(vatId);
        },
      };
    };
    const launched: string[] = [];
    const second = await makeNodeKernel({ dataDir, launcher: counting(launched) });
    await second.kernel.resume();
    expect(launched).toEqual([]);
    const s = await second.kernel.queueMessage(counter, 'increment', []);
    expect(capdataToJson(s.data)).toBe(2);
    const counterId = second.kernel.state.getVatByName('counter')?.vatId;
    expect(launched).toEqual([counterId]);
    // The other vat's promises were still settled at resume; its worker waits.
    expect(second.kernel.state.getVatByName('other')?.incarnation).toBe(1);
    const o = await second.kernel.queueMessage(other, 'getCount', []);
    expect(capdataToJson(o.data)).toBe(5);
    expect(launched).toHaveLength(2);
    await second.close();

    const eager: string[] = [];
    const third = await makeNodeKernel({
      dataDir,
      launcher: counting(eager),
      startVatsOnDemand: false,
    });
    await third.kernel.resume();
    expect(eager).toHaveLength(2);
    await third.close();
  });

  it('suspends a vat whose worker cannot start at its first delivery, its message held', async () => {
    const dataDir = await tempDir('cask-resume-');
    const first = await open(dataDir);
    const { result } = await first.kernel.launchCluster(
      await cluster({ counter: 'counter.js' }, 'counter'),
    );
    await result;
    const counter = first.kernel.rootOf('counter');
    await first.call(counter, 'increment');
    await first.close();

    const second = await makeNodeKernel({
      dataDir,
      launcher: {
        launch: () => Promise.reject(new Error('no workers today')),
      },
    });
    await second.kernel.resume();
    const { kpid } = await second.kernel.enqueueMessage(counter, 'increment', []);
    await second.kernel.whenIdle();
    const vat = second.kernel.state.getVatByName('counter');
    expect(vat?.state).toBe('suspended');
    expect(vat?.reason).toMatch(/its host could not be started: no workers today/u);
    expect(second.kernel.state.heldCount(vat?.vatId as string)).toBe(1);
    expect(second.kernel.promiseStatus(kpid)).toEqual({ state: 'unresolved' });
    await second.close();

    // With workers again, a restart delivers the held message.
    const third = await makeNodeKernel({ dataDir });
    await third.kernel.resume();
    await third.kernel.restartVat(vat?.vatId as string);
    await third.kernel.whenIdle();
    expect((await third.kernel.queueMessage(counter, 'getCount', [])).data.body).toBe(
      '#2',
    );
    await third.close();
  });

  it('rejects promises the old incarnation decided and abandons its non-durable objects', async () => {
    const dataDir = await tempDir('cask-resume-');
    const first = await open(dataDir);
    await first.kernel.launchCluster(
      await cluster(
        { alice: 'introducer.js', bob: 'greeter.js', carol: 'visitor.js' },
        'alice',
      ),
    );
    await first.kernel.whenIdle();
    const bob = first.kernel.rootOf('bob');
    const carol = first.kernel.rootOf('carol');
    const carolId = first.kernel.state.getVatByName('carol')?.vatId ?? '';
    // carol keeps a greeter: a plain Far object on bob's heap.
    expect((await first.call(carol, 'keepGreeter', { $kref: bob }, 'Hi')).value).toBe(
      'Hi, carol, from bob (#1)',
    );
    const [greeter] = first.kernel.state
      .clistEntries(carolId)
      .filter(([kref, vref]) => vref.startsWith('o-') && kref !== bob)
      .map(([kref]) => kref);
    expect(greeter).toBeDefined();
    // … and a promise bob decides but has not settled.
    void first.kernel.queueMessage(bob, 'makeGreeterLater', ['Yo']);
    await first.kernel.whenIdle();
    const pending = first.store.all(
      "SELECT kpid FROM promises WHERE state = 'unresolved' AND decider_vat = ?",
      [first.kernel.state.getVatByName('bob')?.vatId ?? ''],
    );
    expect(pending).toHaveLength(1);
    const kpid = String(pending[0]?.[0]);
    await first.close();

    const second = await open(dataDir);
    await second.kernel.resume();
    const p = second.kernel.state.getPromise(kpid);
    expect(p?.state).toBe('rejected');
    expect(capdataToJson(p?.data as never)).toMatchObject({
      $error: expect.stringMatching(
        /vat "bob" \(v\d+\) restarted \(the kernel restarted\)/u,
      ),
    });
    const again = await second.call(greeter as string, 'greet', 'ben');
    expect(again.rejected).toBe(true);
    expect(again.value).toMatchObject({ $error: expect.stringMatching(/abandoned/u) });
    // The root survives: it is rebuilt by buildRootObject.
    expect((await second.call(bob, 'release')).value).toBe(0);
    await second.close();
  });

  it('keeps durable objects and collections across the restart', async () => {
    const dataDir = await tempDir('cask-resume-');
    const first = await open(dataDir);
    await first.kernel.launchCluster(await cluster({ ledger: 'ledger.js' }, 'ledger'));
    await first.kernel.whenIdle();
    const ledger = first.kernel.rootOf('ledger');
    await first.call(ledger, 'deposit', 'ann', 10);
    await first.close();

    const second = await open(dataDir);
    await second.kernel.resume();
    expect((await second.call(ledger, 'deposit', 'ann', 5)).value).toBe('15n');
    expect((await second.call(ledger, 'balances')).value).toEqual({ ann: '15n' });
    await second.close();
  });
});
