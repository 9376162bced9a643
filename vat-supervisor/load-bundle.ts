/**
 * Imports a vat's bundle into Compartments whose globals are exactly the ones given.
 *
 * `@endo/import-bundle` does the same, but always adds TextEncoder, TextDecoder, URL,
 * atob and btoa to whatever it is given, and SES makes TextEncoder and TextDecoder
 * globals of every Compartment; a vat must get only what its config names
 * (./endowments.ts), so what it did not ask for is taken off each Compartment's global. So this calls the
 * compartment mapper itself, with import-bundle's way of making liveslots' inescapable
 * globals (its virtual-object-aware WeakMap and WeakSet) reach every Compartment the
 * bundle makes, nested ones included.
 */
import { decodeBase64 } from '@endo/base64';
import { parseArchive } from '@endo/compartment-mapper/import-archive.js';

export interface LoadBundleOptions {
  bundleUrl: string;
  /** The vat's globals: its endowments and liveslots' (VatData). */
  globals: Record<string, unknown>;
  /** Globals every Compartment gets and no code in them can replace for another. */
  inescapableGlobalProperties: Record<PropertyKey, unknown>;
  /**
   * Globals every Compartment loses: SES (2.x) makes TextEncoder and TextDecoder
   * intrinsics of every Compartment, and a vat gets them only if its config asks.
   */
  withheld: readonly string[];
  /** The host's base64 decoder (SupervisorPlatform.decodeBase64). */
  decodeBase64?: (text: string) => Uint8Array;
}

type CompartmentClass = new (...args: unknown[]) => {
  globalThis: Record<PropertyKey, unknown>;
};

function wrapCompartment(
  Base: CompartmentClass,
  inescapable: Record<PropertyKey, unknown>,
  withheld: readonly string[],
): CompartmentClass {
  // Named Compartment so that its `name` reads as the real one's.
  const VatCompartment = function Compartment(this: unknown, ...args: unknown[]): object {
    if (new.target === undefined) {
      throw TypeError('Compartment must be called as a constructor');
    }
    const made = Reflect.construct(
      Base,
      args,
      new.target,
    ) as InstanceType<CompartmentClass>;
    // Compartments the vat makes are wrapped the same way.
    made.globalThis.Compartment = VatCompartment;
    for (const name of withheld) Reflect.deleteProperty(made.globalThis, name);
    for (const key of Reflect.ownKeys(inescapable)) {
      Object.defineProperty(made.globalThis, key, {
        value: inescapable[key],
        writable: true,
        enumerable: false,
        configurable: true,
      });
    }
    return made;
  } as unknown as CompartmentClass;
  // `c instanceof Compartment` stays true.
  (VatCompartment as unknown as { prototype: unknown }).prototype = Base.prototype;
  return VatCompartment;
}

/** Imports an `endoZipBase64` bundle and returns its module namespace. */
export async function loadBundle(
  bundle: { endoZipBase64: string },
  {
    bundleUrl,
    globals,
    inescapableGlobalProperties,
    withheld,
    decodeBase64: decode = decodeBase64,
  }: LoadBundleOptions,
): Promise<Record<string, unknown>> {
  const archive = await parseArchive(decode(bundle.endoZipBase64), bundleUrl);
  const { namespace } = await archive.import({
    globals,
    Compartment: wrapCompartment(
      Compartment as unknown as CompartmentClass,
      inescapableGlobalProperties,
      withheld.filter((name) => !Object.hasOwn(globals, name)),
    ),
  } as Parameters<typeof archive.import>[0]);
  return namespace as Record<string, unknown>;
}
