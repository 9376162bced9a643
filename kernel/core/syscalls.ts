/**
 * What the kernel does with each syscall a vat made during a crank. Every check that a
 * vat could fail throws a CrankFault naming the rule it broke; the crank is then void.
 */
import type { CapData, Syscall } from '../protocol/index.ts';
import type { KernelState, KRef, VatId } from '../state/index.ts';
import { CrankFault, capdataFromVat, knownVatRef, vatRefToKref } from './translate.ts';

export interface SyscallContext {
  state: KernelState;
  /** Settles a kernel promise and wakes its subscribers and queued messages. */
  resolve(kpid: KRef, rejected: boolean, data: CapData): void;
  /** The vat asked to end itself; honoured once the crank commits. */
  requestExit(vatId: VatId, failure: boolean, info: CapData): void;
  /** The vat's heap timers (setTimeout), kept in the kernel's timer queue. */
  heapTimers: {
    set(vatId: VatId, id: number, ms: number): void;
    clear(vatId: VatId, id: number): void;
  };
}

export function handleSyscall(ctx: SyscallContext, vatId: VatId, syscall: Syscall): void {
  const { state } = ctx;
  switch (syscall.kind) {
    case 'send': {
      const target = vatRefToKref(state, vatId, syscall.target);
      const methargs = capdataFromVat(state, vatId, syscall.methargs, 'message');
      let result: KRef | null = null;
      if (syscall.result !== null) {
        if (!syscall.result.startsWith('p+')) {
          throw new CrankFault(
            vatId,
            `its send used ${syscall.result} as a result; results are new p+ promises`,
          );
        }
        if (state.vrefToKref(vatId, syscall.result) !== undefined) {
          throw new CrankFault(
            vatId,
            `its send reused ${syscall.result} as a result promise`,
          );
        }
        result = state.createPromise(null);
        state.addClistEntry(vatId, result, syscall.result, true);
      }
      const message = { methargs, result, sender: vatId };
      state.increfMessage(target, message);
      state.enqueue({ kind: 'send', target, message });
      return;
    }
    case 'resolve': {
      // One unit: every resolution is checked and translated before any takes effect,
      // since a resolution's data may name a promise resolved earlier in the same batch
      // (promises resolved to each other, or to data holding themselves).
      const batch = syscall.resolutions.map(({ vpid, rejected, data }) => {
        const kpid = knownVatRef(state, vatId, vpid, 'promise');
        const p = state.requirePromise(kpid);
        if (p.state !== 'unresolved') {
          throw new CrankFault(
            vatId,
            `it resolved ${vpid} (${kpid}), which is already ${p.state}`,
          );
        }
        if (p.decider !== vatId) {
          throw new CrankFault(
            vatId,
            `it resolved ${vpid} (${kpid}), which it does not decide`,
          );
        }
        return { kpid, rejected, data: capdataFromVat(state, vatId, data) };
      });
      const kpids = new Set(batch.map((r) => r.kpid));
      if (kpids.size !== batch.length) {
        throw new CrankFault(vatId, 'it resolved the same promise twice in one batch');
      }
      for (const { kpid, rejected, data } of batch) ctx.resolve(kpid, rejected, data);
      // liveslots forgets a promise once it has resolved it.
      for (const kpid of kpids) state.deleteClistEntry(vatId, kpid, true);
      return;
    }
    case 'subscribe': {
      const kpid = vatRefToKref(state, vatId, syscall.vpid);
      const p = state.requirePromise(kpid);
      if (p.state === 'unresolved') {
        state.addSubscriber(kpid, vatId);
      } else {
        state.incref(kpid);
        state.enqueue({ kind: 'notify', vatId, kpid });
      }
      return;
    }
    case 'exit':
      ctx.requestExit(vatId, syscall.failure, capdataFromVat(state, vatId, syscall.info));
      return;
    case 'dropImports':
      for (const vref of syscall.vrefs) {
        requireImport(vatId, vref);
        const kref = knownVatRef(state, vatId, vref, 'object');
        if (!state.isReachableFlag(vatId, kref)) {
          throw new CrankFault(vatId, `it dropped ${vref} twice`);
        }
        state.setReachableFlag(vatId, kref, false);
        state.decrefReachable(kref);
      }
      return;
    case 'retireImports':
      for (const vref of syscall.vrefs) {
        requireImport(vatId, vref);
        const kref = knownVatRef(state, vatId, vref, 'object');
        if (state.isReachableFlag(vatId, kref)) {
          throw new CrankFault(vatId, `it retired ${vref} before dropping it`);
        }
        state.deleteClistEntry(vatId, kref, true);
      }
      return;
    case 'retireExports':
      for (const vref of syscall.vrefs) {
        requireExport(vatId, vref);
        const kref = knownVatRef(state, vatId, vref, 'object');
        // Only what the kernel has told it is dropped (dropExports) may be retired.
        if (state.isReachableFlag(vatId, kref)) {
          throw new CrankFault(
            vatId,
            `it retired ${vref} (${kref}), which is still reachable (it was never dropped)`,
          );
        }
        for (const importer of state.importersOf(kref)) {
          state.enqueue({ kind: 'retireImports', vatId: importer, krefs: [kref] });
        }
        state.deleteClistEntry(vatId, kref, false);
        state.deleteObject(kref);
      }
      return;
    case 'abandonExports':
      for (const vref of syscall.vrefs) {
        requireExport(vatId, vref);
        if (vref === 'o+0') {
          throw new CrankFault(vatId, 'it abandoned its root object o+0');
        }
        const kref = knownVatRef(state, vatId, vref, 'object');
        state.deleteClistEntry(vatId, kref, false);
        state.setObjectOwner(kref, null);
      }
      return;
    case 'setTimer':
      ctx.heapTimers.set(vatId, syscall.id, syscall.ms);
      return;
    case 'clearTimer':
      ctx.heapTimers.clear(vatId, syscall.id);
      return;
    default: {
      const never: never = syscall;
      throw new CrankFault(vatId, `it made an unknown syscall ${JSON.stringify(never)}`);
    }
  }
}

function requireImport(vatId: VatId, vref: string): void {
  if (!vref.startsWith('o-'))
    throw new CrankFault(vatId, `${vref} is not an object import`);
}

function requireExport(vatId: VatId, vref: string): void {
  if (!vref.startsWith('o+'))
    throw new CrankFault(vatId, `${vref} is not an object export`);
}
