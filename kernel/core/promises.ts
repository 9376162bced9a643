/**
 * Settling a kernel promise: its subscribers are notified, the messages queued on it flow
 * on (still aimed at it; routing follows its resolution), and a caller outside waiting on
 * it hears of it once the crank is durable.
 */
import type { CapData } from '../protocol/index.ts';
import type { KernelState, KRef } from '../state/index.ts';
import type { OutsideCallers } from './outside-callers.ts';

export type Resolver = (kpid: KRef, rejected: boolean, data: CapData) => void;

export function makeResolver(state: KernelState, callers: OutsideCallers): Resolver {
  return (kpid, rejected, data) => {
    const { subscribers, queued } = state.resolvePromise(kpid, rejected, data);
    for (const vatId of subscribers) {
      state.incref(kpid);
      state.enqueue({ kind: 'notify', vatId, kpid });
    }
    for (const message of queued) state.enqueue({ kind: 'send', target: kpid, message });
    callers.noteSettled(kpid, { rejected, data });
  };
}
