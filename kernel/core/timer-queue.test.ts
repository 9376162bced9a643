/**
 * The timer queue and the service's time, over a real store: the crank's time is taken
 * once when a crank opens, whatever the clock does during it; the earliest due time is
 * cached and kept true; heap timers keep their (due, armed) order.
 */
import initSqlJs from 'sql.js';
import { expect, it } from 'vitest';
import type { KernelClock } from '../platform/index.ts';
import { KernelState } from '../state/index.ts';
import { KernelStore } from '../store/index.ts';
import type { ServiceCall } from './services.ts';
import { TimerQueue } from './timer-queue.ts';
import { TimerService } from './timer-service.ts';

const SQL = await initSqlJs();

/** A clock that moves on by 1 ms every time it is read. */
function tickingClock(start: number): KernelClock {
  let now = start;
  return { now: () => (now += 1), wakeAt: () => () => undefined };
}

function setup() {
  const store = KernelStore.open(SQL);
  store.checkState = process.env['CASK_CHECK_STATE'] === '1';
  const state = new KernelState(store);
  const queue = new TimerQueue({
    clock: tickingClock(1000),
    readEarliestStored: () => state.earliestTimerDue(),
    onWake: () => undefined,
  });
  const service = new TimerService({
    queue,
    resolve: () => undefined,
    maxTimersPerVat: 10,
    report: () => undefined,
  });
  const after: Array<() => void> = [];
  const call: ServiceCall = {
    state,
    sender: null,
    facet: () => undefined,
    afterCommit: (fn) => {
      after.push(fn as () => void);
    },
    takeResult: () => null,
  };
  const crank = <T>(fn: () => T): T => {
    store.beginCrank();
    queue.openCrank();
    const result = fn();
    store.commitCrank();
    for (const f of after.splice(0)) f();
    return result;
  };
  return { store, state, queue, service, call, crank };
}

it('getCurrentTimestamp is the same for the whole crank, and later in the next', () => {
  const { service, call, crank, state } = setup();
  const [a, b, dueOfDelay] = crank(() => {
    const first = service.invoke(call, '', 'getCurrentTimestamp', []);
    const second = service.invoke(call, '', 'getCurrentTimestamp', []);
    service.invoke(call, '', 'delay', [5n]);
    return [first, second, state.earliestTimerDue()];
  });
  expect(a).toBe(b);
  expect(dueOfDelay).toBe(Number(a) + 5);
  const c = crank(() => service.invoke(call, '', 'getCurrentTimestamp', []));
  expect(c as bigint).toBeGreaterThan(a as bigint);
});

it('caches the earliest due time and reads it again after a change', () => {
  const { service, call, crank, queue, state } = setup();
  expect(queue.earliest()).toBeNull();
  crank(() => service.invoke(call, '', 'wakeAt', [5000n]));
  crank(() => service.invoke(call, '', 'wakeAt', [3000n]));
  expect(queue.earliest()).toBe(3000);
  crank(() => service.fireDue(state, 4000));
  expect(queue.earliest()).toBe(5000);
});

it('heap timers come due in (due, armed) order and end with their vat', () => {
  const { queue, crank } = setup();
  crank(() => {
    queue.setHeap('v1', 1, 1, 20);
    queue.setHeap('v2', 1, 1, 10);
    queue.setHeap('v1', 1, 2, 10);
    queue.setHeap('v3', 1, 1, 10);
  });
  const base = queue.crankTime;
  expect(queue.earliest()).toBe(base + 10);
  queue.dropVat('v3');
  expect(queue.takeDueHeap(base + 10).map((t) => `${t.vatId}/${t.id}`)).toEqual([
    'v2/1',
    'v1/2',
  ]);
  expect(queue.earliest()).toBe(base + 20);
  expect(queue.heapCount('v1')).toBe(1);
});
