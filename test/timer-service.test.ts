/**
 * The timer service and the kernel's time order (docs/timers.md), driven by a manual
 * clock: wake-ups enter the run queue in (due, timer_id) order at the first check after
 * their time, between two cranks; setTimeout shares that order; timers outlive a
 * restart. Real sql.js, real SES, real liveslots vats (in this thread).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  capdataToJson,
  type CrankRecord,
  type Kernel,
  type VatLogEntry,
} from '../kernel/index.ts';
import { bundleVatSource } from './fixtures/bundle-cache.ts';
import { makeNodeKernel, type NodeKernel } from '../node/host/index.ts';
import { makeInProcessLauncher } from './fixtures/in-process-vats.ts';
import { makeManualClock, type ManualClock } from './fixtures/manual-clock.ts';
import { removeTempDirs, tempDir } from './fixtures/temp-dirs.ts';
import { sampleVat, testVat } from './kernel-harness.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(removeTempDirs);

const T0 = 1_700_000_000_000;
const TIMERS = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'];

interface Started extends NodeKernel {
  clock: ManualClock;
  logs: VatLogEntry[];
  cranks: CrankRecord[];
  onCrank: Array<(r: CrankRecord) => void>;
  call(method: string, ...args: unknown[]): Promise<unknown>;
  timerRows(): number;
}

async function start(
  options: {
    clock?: ManualClock;
    dataDir?: string;
    maxTimersPerVat?: number;
    source?: string;
    parameters?: Record<string, unknown>;
  } = {},
): Promise<Started> {
  const clock = options.clock ?? makeManualClock(T0);
  const logs: VatLogEntry[] = [];
  const cranks: CrankRecord[] = [];
  const onCrank: Array<(r: CrankRecord) => void> = [];
  const host = await makeNodeKernel({
    launcher: makeInProcessLauncher(),
    clock,
    onVatLog: (entry) => logs.push(entry),
    onCrank: (r) => {
      cranks.push(r);
      for (const fn of onCrank) fn(r);
    },
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.maxTimersPerVat ? { maxTimersPerVat: options.maxTimersPerVat } : {}),
  });
  cleanups.push(() => host.close());
  const { kernel } = host;
  if (host.isNew) {
    const { result } = await kernel.launchCluster({
      bootstrap: 'user',
      vats: {
        user: {
          bundle: await bundleVatSource(options.source ?? testVat('timer-user.js')),
          parameters: options.parameters ?? {},
          globals: TIMERS,
        },
        ...(options.source
          ? {}
          : {
              peer: {
                bundle: await bundleVatSource(testVat('timer-user.js')),
                parameters: {},
                globals: TIMERS,
              },
            }),
      },
      services: ['timer'],
    });
    const s = await result;
    expect(s.rejected, JSON.stringify(capdataToJson(s.data))).toBe(false);
  } else {
    await kernel.resume();
  }
  await kernel.whenIdle();
  return {
    ...host,
    clock,
    logs,
    cranks,
    onCrank,
    call: (method, ...args) => call(kernel, method, ...args),
    timerRows: () => Number(host.store.one('SELECT count(*) FROM timers')?.[0]),
  };
}

async function call(kernel: Kernel, method: string, ...args: unknown[]) {
  const s = await kernel.queueMessage(kernel.rootOf('user'), method, args);
  expect(s.rejected, JSON.stringify(capdataToJson(s.data))).toBe(false);
  await kernel.whenIdle();
  return capdataToJson(s.data);
}

/** What both vats logged, in the order the kernel ran it. */
const journal = (k: Started) =>
  k.logs.filter((l) => l.level === 'test').map((l) => l.text);

/** Moves the clock on and waits until the kernel has run everything that came due. */
async function advance(k: Started, ms: number): Promise<void> {
  k.clock.advance(ms);
  await k.kernel.whenIdle();
}

describe('the timer service', () => {
  it('is offered by every kernel and named in serviceNames', async () => {
    const k = await start();
    expect(k.kernel.serviceNames()).toContain('timer');
    expect(await k.call('now')).toBe(`${T0}n`);
  });

  it('wakes handlers and settles promises in (due, timer_id) order, setTimeout among them', async () => {
    const k = await start();
    await k.call('wakeAt', 'A', `${T0 + 10}n`);
    await k.call('wakeAt', 'B', `${T0 + 5}n`);
    await k.call('setTimeout', 'C', 5);
    await k.call('wakePromise', 'D', `${T0 + 10}n`);
    await k.call('wakeAt', 'E', `${T0 + 5}n`);
    await advance(k, 4);
    expect(await k.call('log')).toEqual([]);
    await advance(k, 16);
    // Equal due times: stored wake-ups in the order asked for, then setTimeout.
    expect(await k.call('log')).toEqual([
      `B@${T0 + 5}`,
      `E@${T0 + 5}`,
      'C (setTimeout)',
      `A@${T0 + 10}`,
      `D@${T0 + 10}`,
    ]);
    expect(k.timerRows()).toBe(0);
  });

  it('delay(0n) runs after everything already queued', async () => {
    const k = await start();
    await k.call('immediate');
    expect(journal(k)).toEqual(['sent in the same crank', `delay(0n)@${T0}`]);
  });

  it('a busy run queue does not starve timers: a due wake-up joins its tail at the next crank boundary', async () => {
    const k = await start();
    await k.call('wakeAt', 'W', `${T0 + 1}n`);
    // The clock passes the wake-up's time right after the chain's second link ran.
    let links = 0;
    k.onCrank.push((r) => {
      if (r.method === 'chain' && ++links === 2) k.clock.advance(1);
    });
    await k.call('chain', 5);
    // Link 3 was already queued when link 2 ended; the wake-up follows it.
    expect(journal(k)).toEqual([
      'chain 1',
      'chain 2',
      'chain 3',
      `W@${T0 + 1}`,
      'chain 4',
      'chain 5',
    ]);
  });

  it('a wake-up that comes due while the run queue is paused joins it behind what was queued', async () => {
    const k = await start();
    await k.call('wakeAt', 'W', `${T0 + 1}n`);
    k.kernel.pauseRunQueue();
    const first = k.kernel.enqueueMessage(k.kernel.rootOf('user'), 'note', ['first']);
    await first;
    k.clock.advance(1);
    await k.kernel.enqueueMessage(k.kernel.rootOf('user'), 'note', ['second']);
    k.kernel.unpauseRunQueue();
    await k.kernel.whenIdle();
    expect(await k.call('log')).toEqual(['first', 'second', `W@${T0 + 1}`]);
  });

  it('setWakeup answers the time; getCurrentTimestamp is the crank time', async () => {
    const k = await start();
    expect(await k.call('setWakeup', 'S', 7)).toBe(`7n`);
    await k.kernel.whenIdle();
    // 7 ms after the epoch is long past: it fires at once.
    expect(await k.call('log')).toEqual(['S@7']);
    k.clock.advance(123);
    expect(await k.call('now')).toBe(`${T0 + 123}n`);
  });

  it('cancel: the promise is rejected with TimerCancelled, the handler never woken, nothing held', async () => {
    const k = await start();
    await k.call('wakeAt', 'H', `${T0 + 10}n`, 'tok');
    await k.call('delay', 'P', `10n`, 'tok');
    await k.call('delay', 'Q', `10n`, 'other');
    expect(k.timerRows()).toBe(3);
    const held = k.store
      .all('SELECT handler, cancel_token, result_kpid FROM timers')
      .flat()
      .filter((x): x is string => typeof x === 'string');
    expect(await k.call('cancel', 'tok')).toBe(2);
    await advance(k, 20);
    expect(await k.call('log')).toEqual(['P rejected: TimerCancelled', `Q@${T0 + 10}`]);
    expect(k.timerRows()).toBe(0);
    // Every kref a row held is free again: no reference is left counted for it.
    for (const kref of held) {
      if (kref.startsWith('kp')) {
        expect(k.kernel.state.getPromise(kref)?.refcount ?? 0, kref).toBe(0);
      } else {
        expect(k.kernel.state.getObject(kref)?.reachable ?? 0, kref).toBe(0);
      }
    }
    expect(await k.call('cancel', 'tok')).toBe(0);
  });

  it('a fired timer leaves no reference counted', async () => {
    const k = await start();
    await k.call('wakeAt', 'H', `${T0 + 1}n`, 'tok');
    const [handler, token] = k.store.one(
      'SELECT handler, cancel_token FROM timers',
    ) as string[];
    expect(k.kernel.state.getObject(handler as string)?.reachable).toBe(1);
    await advance(k, 1);
    expect(k.timerRows()).toBe(0);
    expect(k.kernel.state.getObject(handler as string)?.reachable ?? 0).toBe(0);
    expect(k.kernel.state.getObject(token as string)?.reachable ?? 0).toBe(0);
  });

  it('repeatAfter wakes every interval; a throwing handler is reported and the repeater goes on', async () => {
    const k = await start();
    await k.call('repeat', 'R', 10, 10, true);
    await advance(k, 10);
    await advance(k, 10);
    expect(await k.call('log')).toEqual([
      `R@${T0 + 10} missed 0`,
      `R@${T0 + 20} missed 0`,
    ]);
    const reports = k.logs.filter((l) => l.tags.includes('timer'));
    expect(reports).toHaveLength(2);
    expect(reports[0]).toMatchObject({ vatName: 'user', level: 'error' });
    expect(reports[0]?.text).toContain('R does not want to wake');
    // A busy stretch: three periods pass at once; one wake-up, the skipped ones counted.
    await advance(k, 35);
    expect((await k.call('log')) as string[]).toContain(`R@${T0 + 50} missed 2`);
    await advance(k, 5);
    expect(((await k.call('log')) as string[]).at(-1)).toBe(`R@${T0 + 60} missed 0`);
    expect(k.timerRows()).toBe(1);
  });

  it('refuses bad arguments with errors naming them, storing nothing', async () => {
    const k = await start();
    const promises = () => Number(k.store.one('SELECT count(*) FROM promises')?.[0]);
    const before = promises();
    expect(await k.call('raw', 'wakeAt', 'soon')).toMatch(
      /timer wakeAt: time must be milliseconds since the epoch.*got "soon"/u,
    );
    expect(await k.call('raw', 'delay', '-5n')).toMatch(
      /timer delay: delay must be a duration in milliseconds.*got -5n/u,
    );
    expect(await k.call('raw', 'delay', 1.5)).toMatch(/got 1.5/u);
    expect(await k.call('raw', 'repeatAfter', '1n', '0n')).toMatch(
      /interval must be at least 1n ms/u,
    );
    expect(await k.call('raw', 'repeatAfter', '1n', '5n', 'h')).toMatch(
      /timer repeatAfter: handler must be an object/u,
    );
    expect(await k.call('raw', 'setWakeup', '1n')).toMatch(/handler must be an object/u);
    expect(await k.call('raw', 'wakeAt', { relValue: '5n' })).toMatch(
      /got a record with relValue/u,
    );
    expect(await k.call('raw', 'cancel')).toMatch(/cancelToken must be an object/u);
    expect(await k.call('raw', 'sleep', '1n')).toMatch(/no method "sleep"/u);
    expect(k.timerRows()).toBe(0);
    await k.kernel.whenIdle();
    expect(promises()).toBe(before);
    // SwingSet's records and plain numbers are accepted.
    await k.call('wakeAt', 'abs', { absValue: `${T0 + 5}n` });
    await k.call('delay', 'rel', { relValue: 5 });
    await k.call('delay', 'number', 5);
    expect(k.timerRows()).toBe(3);
    await advance(k, 5);
    expect(await k.call('log')).toEqual([
      `abs@${T0 + 5}`,
      `rel@${T0 + 5}`,
      `number@${T0 + 5}`,
    ]);
  });

  it('caps the pending timers of a vat, heap timers included, naming the cap', async () => {
    const k = await start({ maxTimersPerVat: 3 });
    await k.call('wakeAt', 'a', `${T0 + 10}n`);
    await k.call('setTimeout', 'b', 10);
    await k.call('wakeAt', 'c', `${T0 + 10}n`);
    expect(await k.call('raw', 'wakeAt', `${T0 + 10}n`)).toMatch(
      /timer wakeAt: vat "user" \(v1\) has 3 pending timers, the most allowed \(maxTimersPerVat\)/u,
    );
    expect(k.timerRows()).toBe(2);
    await advance(k, 10);
    // Fired, they no longer count.
    await k.call('delay', 'd', '1n');
    expect(k.timerRows()).toBe(1);
  });

  it('a setTimeout past the cap is dropped, with an error line of the vat', async () => {
    const k = await start({ maxTimersPerVat: 2 });
    await k.call('wakeAt', 'a', `${T0 + 10}n`);
    await k.call('wakeAt', 'b', `${T0 + 10}n`);
    await k.call('setTimeout', 'T', 5);
    expect(k.logs.filter((l) => l.tags.includes('timer'))).toEqual([
      expect.objectContaining({
        vatName: 'user',
        level: 'error',
        text: expect.stringMatching(
          /setTimeout\/setInterval refused: .*2 pending timers/u,
        ),
      }),
    ]);
    await advance(k, 10);
    expect(await k.call('log')).toEqual([`a@${T0 + 10}`, `b@${T0 + 10}`]);
  });

  it('setTimeout and setInterval run on the kernel clock, in settle cranks of the vat', async () => {
    const k = await start();
    await k.call('setTimeout', 'T', 50);
    await k.call('clearedTimeout', 'X', 10);
    await k.call('setInterval', 'I', 20, 2);
    await advance(k, 20);
    expect(await k.call('log')).toEqual(['I (setInterval 1)']);
    // The next tick is due 20 ms after the crank its callback ran in.
    await advance(k, 20);
    await advance(k, 9);
    expect((await k.call('log')) as string[]).toHaveLength(2);
    await advance(k, 1);
    expect(await k.call('log')).toEqual([
      'I (setInterval 1)',
      'I (setInterval 2)',
      'T (setTimeout)',
    ]);
    expect(k.cranks.filter((c) => c.kind === 'vatTimers').length).toBe(3);
    await advance(k, 100);
    expect((await k.call('log')) as string[]).toHaveLength(3);
    // Nothing of them was stored.
    expect(k.timerRows()).toBe(0);
  });
});

describe('timers across a restart', () => {
  it("a vat's heap timers end with its worker", async () => {
    const k = await start();
    await k.call('setTimeout', 'T', 10);
    await k.kernel.restartVat('v1');
    await advance(k, 10);
    expect(k.cranks.filter((c) => c.kind === 'vatTimers')).toEqual([]);
    expect(await k.call('log')).toEqual([]);
  });

  it('a repeater whose handler died with its heap ends, said once', async () => {
    const k = await start();
    await k.call('repeat', 'R', 10, 10);
    // A Far handler is heap state: the restart abandons it.
    await k.kernel.restartVat('v1');
    await advance(k, 10);
    await advance(k, 10);
    expect(k.timerRows()).toBe(0);
    const reports = k.logs.filter((l) => l.tags.includes('timer')).map((l) => l.text);
    expect(reports).toEqual([
      expect.stringMatching(/repeater ended, its handler ko\d+ was abandoned/u),
    ]);
  });

  it('a repeater that missed periods while the kernel was stopped fires once, with the count', async () => {
    const dataDir = await tempDir('cask-timers-');
    const clock = makeManualClock(T0);
    const first = await start({
      dataDir,
      clock,
      source: sampleVat('reminder.js'),
      parameters: { periodMs: 10 },
    });
    await advance(first, 10);
    expect(await first.call('status')).toMatchObject({ fires: 1, missed: 0 });
    await first.close();
    clock.advance(45);
    const second = await start({ dataDir, clock });
    expect(await second.call('status')).toMatchObject({
      fires: 2,
      missed: 3,
      last: `${T0 + 50}n`,
      lastMissed: 3,
    });
    await advance(second, 10);
    expect(await second.call('status')).toMatchObject({
      fires: 3,
      missed: 3,
      lastMissed: 0,
    });
  });
});
