/**
 * C-list translation between kernel references (ko12, kp7) and one vat's references
 * (o+3 exported by the vat, o-4 imported into it, p+5, p-6).
 */
import { kunser, plainBody } from '../marshal/index.ts';
import type { CapData } from '../protocol/index.ts';
import type { VatFaultKind } from '../vat-handle/index.ts';
import {
  isPromiseKref,
  type KernelState,
  type KRef,
  type VatId,
  type VRef,
} from '../state/index.ts';

/**
 * A vat's fault during a crank, which is then void: by default it broke the rules of the
 * protocol or of its c-list; the vat warehouse raises the other kinds (VatFaultKind).
 */
export class CrankFault extends Error {
  override name = 'CrankFault';
  readonly vatId: VatId;
  readonly kind: VatFaultKind;
  constructor(vatId: VatId, reason: string, kind: VatFaultKind = 'violation') {
    super(reason);
    this.vatId = vatId;
    this.kind = kind;
  }
}

/** The vref by which `vatId` knows `kref`, giving it a new import vref if it has none. */
export function krefToVatRef(state: KernelState, vatId: VatId, kref: KRef): VRef {
  const vref = state.krefToVref(vatId, kref);
  if (vref !== undefined) {
    // An import the vat had dropped becomes reachable again when it is handed back in.
    if (vref.startsWith('o-') && !state.isReachableFlag(vatId, kref)) {
      state.setReachableFlag(vatId, kref, true);
      state.increfReachable(kref);
    }
    return vref;
  }
  const imported = state.allocateImportVref(vatId, kref);
  state.addClistEntry(vatId, kref, imported, true);
  return imported;
}

export function capdataToVat(state: KernelState, vatId: VatId, data: CapData): CapData {
  if (data.slots.length === 0) return data;
  return {
    body: data.body,
    slots: data.slots.map((kref) => krefToVatRef(state, vatId, kref)),
  };
}

/**
 * The kref for a vref a vat used in a syscall. A new export (o+N, p+N) gets a new kernel
 * object or promise; an import the vat was never given is a fault.
 */
export function vatRefToKref(state: KernelState, vatId: VatId, vref: VRef): KRef {
  const kref = state.vrefToKref(vatId, vref);
  const exported = vref[1] === '+';
  if (kref !== undefined) {
    // The vat exports again an object the kernel had told it was dropped.
    if (exported && vref[0] === 'o' && !state.isReachableFlag(vatId, kref)) {
      state.setReachableFlag(vatId, kref, true);
    }
    return kref;
  }
  if (!exported) {
    throw new CrankFault(vatId, `it used ${vref}, a reference it was never given`);
  }
  if (vref[0] === 'o') {
    const ko = state.createObject(vatId);
    state.addClistEntry(vatId, ko, vref, false);
    return ko;
  }
  const kp = state.createPromise(vatId);
  state.addClistEntry(vatId, kp, vref, true);
  return kp;
}

/**
 * The vat's capdata with krefs for its vrefs. The kernel does not read bodies, but it
 * hands them on: a body that does not decode (or a message that is not `[method, args]`)
 * would fault the vat it reaches instead of the vat that wrote it, so it is refused here.
 */
export function capdataFromVat(
  state: KernelState,
  vatId: VatId,
  data: CapData,
  what: 'message' | 'value' = 'value',
): CapData {
  assertDecodes(vatId, data, what);
  if (data.slots.length === 0) return data;
  return {
    body: data.body,
    slots: data.slots.map((vref) => vatRefToKref(state, vatId, vref)),
  };
}

function assertDecodes(vatId: VatId, data: CapData, what: 'message' | 'value'): void {
  const plain = plainBody(data.body);
  let value: unknown;
  try {
    value = plain ? plain.value : kunser(data);
  } catch (error) {
    throw new CrankFault(
      vatId,
      `it sent a ${what} whose capdata does not decode (${(error as Error).message})`,
    );
  }
  if (what === 'message') {
    const [method, args] = Array.isArray(value) ? (value as unknown[]) : [];
    const named = ['string', 'symbol', 'undefined'].includes(typeof method);
    if (!Array.isArray(value) || value.length !== 2 || !named || !Array.isArray(args)) {
      throw new CrankFault(
        vatId,
        'it sent a message whose capdata is not [method, args]',
      );
    }
  }
}

/** The kref of a vref the vat must already know, of the expected kind. */
export function knownVatRef(
  state: KernelState,
  vatId: VatId,
  vref: VRef,
  expect: 'object' | 'promise',
): KRef {
  const kref = state.vrefToKref(vatId, vref);
  if (kref === undefined) {
    throw new CrankFault(vatId, `it used ${vref}, which is not in its c-list`);
  }
  if (isPromiseKref(kref) !== (expect === 'promise')) {
    throw new CrankFault(
      vatId,
      `it used ${vref} as ${expect === 'promise' ? 'a promise' : 'an object'}`,
    );
  }
  return kref;
}
