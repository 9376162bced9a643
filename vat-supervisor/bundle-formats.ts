/**
 * Loads a vat's bundle into its namespace, in whichever format it came (the host has
 * already checked its shape: kernel/cluster/bundle-formats.ts):
 *
 * - `endoZipBase64`: ./load-bundle.ts, each module in its own Compartment.
 * - `iife` (ocap-kernel's vite bundles): the script runs in one new Compartment whose
 *   globals are the endowments, and its `__vatExports__` is the namespace. As in
 *   ocap-kernel, the Compartment's own `globalThis`/`global` point at itself (rolldown's
 *   helpers and some libraries look for them) and `exports` is an empty object
 *   (rolldown's ESM interop writes to it).
 */
import type { InitVat } from '../kernel/protocol/index.ts';
import { loadBundle, type LoadBundleOptions } from './load-bundle.ts';

export async function loadVatBundle(
  bundle: InitVat['bundle'],
  options: LoadBundleOptions,
): Promise<Record<string, unknown>> {
  if (bundle.moduleFormat === 'endoZipBase64') return loadBundle(bundle, options);
  const compartment = new Compartment({
    ...options.globals,
    ...options.inescapableGlobalProperties,
    exports: {},
  });
  const own = compartment.globalThis as Record<string, unknown>;
  // Only what the vat's config names (see ./load-bundle.ts).
  for (const name of options.withheld) {
    if (!Object.hasOwn(options.globals, name)) Reflect.deleteProperty(own, name);
  }
  own.globalThis = compartment.globalThis;
  own.global = compartment.globalThis;
  // The code declares `var __vatExports__ = (function (exports) { … })({})`; the
  // wrapper hands it back. `//# sourceURL` names the vat in stack traces.
  const namespace: unknown = compartment.evaluate(
    `(function () {\n${bundle.code}\n;return __vatExports__;\n})()\n//# sourceURL=${options.bundleUrl}\n`,
  );
  if (typeof namespace !== 'object' || namespace === null) {
    throw Error(
      `the iife bundle set __vatExports__ to ${String(namespace)}, not its exports`,
    );
  }
  return namespace as Record<string, unknown>;
}
