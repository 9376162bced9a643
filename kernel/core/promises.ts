/**
 * Settling a kernel promise: its subscribers are notified, the messages queued on it flow
 * on (still aimed at it; routing follows its resolution), and a caller outside waiting on
 * it hears of it once the crank is durable, holding (pinning) the krefs it is handed.
 */
import type { CapData, Resolution } from '../protocol/index.ts';
import {
  isPromiseKref,
  type KernelState,
  type KRef,
  type VatId,
} from '../state/index.ts';
import type { OutsideCallers } from './outside-callers.ts';
import { capdataToVat } from './translate.ts';

export type Resolver = (kpid: KRef, rejected: boolean, data: CapData) => void;

/**
 * @param maxPins - how many krefs one outside caller may hold (KernelOptions.maxPinsPerCaller).
 */
export function makeResolver(
  state: KernelState,
  callers: OutsideCallers,
  maxPins: number,
): Resolver {
  return (kpid, rejected, data) => {
    const { subscribers, queued } = state.resolvePromise(kpid, rejected, data);
    for (const vatId of subscribers) {
      state.incref(kpid);
      state.enqueue({ kind: 'notify', vatId, kpid });
    }
    for (const message of queued) state.enqueue({ kind: 'send', target: kpid, message });
    // What a caller outside is handed stays reachable until it lets go (releasePins):
    // pinned in the crank that settles it, so the pin is as durable as the answer.
    for (const caller of callers.noteSettled(kpid, { rejected, data })) {
      for (const kref of new Set(data.slots)) state.pin(caller, kref, maxPins);
    }
  };
}

/**
 * What `vatId` is told when `kpid` (a promise it knows) has settled: its resolution and,
 * as SwingSet does, those of every settled promise its data reaches, transitively, in one
 * batch. liveslots subscribes to each new promise it meets in a notify, so telling them
 * one crank at a time would make promises that refer to each other ping-pong between
 * subscribe and notify for ever. A promise comes after the one whose data names it
 * (liveslots ignores a resolution for a promise it has not yet imported); each is
 * translated while every vref is still in the c-list, then the c-list forgets them all.
 */
export function resolutionsFor(
  state: KernelState,
  vatId: VatId,
  kpid: KRef,
): Resolution[] {
  const resolutions: Resolution[] = [];
  const seen = new Set<KRef>([kpid]);
  const pending = [kpid];
  for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
    const p = state.getPromise(next);
    if (!p?.data || p.state === 'unresolved') continue;
    const vpid = state.krefToVref(vatId, next);
    if (vpid === undefined) continue;
    resolutions.push({
      vpid,
      rejected: p.state === 'rejected',
      data: capdataToVat(state, vatId, p.data),
    });
    for (const slot of p.data.slots) {
      if (isPromiseKref(slot) && !seen.has(slot)) {
        seen.add(slot);
        pending.push(slot);
      }
    }
  }
  for (const r of resolutions) {
    const kref = state.vrefToKref(vatId, r.vpid);
    if (kref !== undefined) state.deleteClistEntry(vatId, kref, true);
  }
  return resolutions;
}
