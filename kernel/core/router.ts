/**
 * Where a message goes: to the vat that owns its target object (or, while that vat is
 * suspended, into the messages held for it), to a kernel service, onto the queue of the unresolved promise it
 * is aimed at (pipelining), or to a rejection of its result. Pure
 * over the kernel state: it reads, decides and changes nothing.
 */
import type { CapData } from '../protocol/index.ts';
import { kerror, singleObjectKref } from '../marshal/index.ts';
import { KernelError } from './errors.ts';
import {
  isPromiseKref,
  type KernelState,
  type KRef,
  type VatId,
} from '../state/index.ts';

const MAX_HOPS = 1000;

export type Route =
  /** Deliver to `vatId`, which owns `target` (an object kref) and runs. */
  | { to: 'vat'; vatId: VatId; target: KRef }
  /** Hold for `vatId`, which owns `target` but is suspended: it waits for the vat. */
  | { to: 'hold'; vatId: VatId }
  /** Answer in the kernel: `target` stands for `facet` of kernel service `service`. */
  | { to: 'service'; service: string; facet: string; target: KRef }
  /** Queue on `kpid`, which is unresolved. */
  | { to: 'promise'; kpid: KRef }
  /** Reject the message's result with `data`; `vatId` is the owner, if there was one. */
  | { to: 'reject'; data: CapData; vatId: VatId | null };

/** Follows `target` through resolved promises to where a message to it must go. */
export function routeSend(
  state: KernelState,
  target: KRef,
  method: string | null,
): Route {
  let to = target;
  // Each hop follows a promise resolved to an object, so a chain ends after one hop; the
  // bound makes a cycle (a kernel bug) an error naming it, never a spin.
  for (let hops = 0; ; hops += 1) {
    if (hops > MAX_HOPS) {
      throw new KernelError(
        `kernel bug: routing a message to ${target} followed ${MAX_HOPS} resolved promises without reaching an object (at ${to})`,
      );
    }
    if (!isPromiseKref(to)) break;
    const p = state.getPromise(to);
    if (!p) return reject(kerror(`message to ${to}: no such promise`));
    if (p.state === 'unresolved') return { to: 'promise', kpid: to };
    const data = p.data as CapData;
    if (p.state === 'rejected') return reject(data);
    const next = singleObjectKref(data);
    if (!next) {
      return reject(
        kerror(
          `cannot send ${method ?? 'a message'} to ${to}: it resolved to a non-object`,
        ),
      );
    }
    to = next;
  }
  const service = state.serviceOf(to);
  if (service) return { to: 'service', ...service, target: to };
  const object = state.getObject(to);
  const owner = object?.owner ? state.getVat(object.owner) : undefined;
  if (owner?.state === 'suspended') return { to: 'hold', vatId: owner.vatId };
  if (!object || !owner || owner.state !== 'running') {
    const why = !object
      ? 'the object no longer exists'
      : owner
        ? `vat "${owner.name}" was terminated: ${owner.reason ?? ''}`
        : 'its vat abandoned it';
    return reject(
      kerror(`cannot deliver ${method ?? 'message'} to ${to}: ${why}`),
      owner?.vatId ?? null,
    );
  }
  return { to: 'vat', vatId: owner.vatId, target: to };
}

function reject(data: CapData, vatId: VatId | null = null): Route {
  return { to: 'reject', data, vatId };
}

/** The method a message names, read from its smallcaps methargs (`#["name",[…]]`). */
export function methodOf(methargs: CapData): string | null {
  const match = /^#\["((?:[^"\\]|\\.)*)"/u.exec(methargs.body);
  return match ? (JSON.parse(`"${match[1] ?? ''}"`) as string) : null;
}
