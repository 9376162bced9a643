/**
 * Which extra globals a vat may ask for (initVat.globals), and where each comes from.
 *
 * A vat's Compartment starts with only the ECMAScript intrinsics (SES tames `Date.now`
 * and `Math.random` there) plus what liveslots adds. Everything else is endowed here by
 * name, and only names on this list can be endowed: anything that would hand a vat a
 * timer, the host's messaging or storage stays out, because liveslots relies on a vat
 * losing agency when its promise queue drains, and only the kernel touches the store.
 *
 * Note that `@endo/import-bundle` always endows TextEncoder, TextDecoder, URL, atob and
 * btoa, whatever is asked for; they are on the list so that naming them is not an error.
 */

/**
 * `realm`: taken from the supervisor's own global scope, where every host we run on
 * (Node, a browser iframe) has it. `host`: only if the host platform offers it.
 */
type Source = 'realm' | 'host';

const ALLOWED: Readonly<Record<string, Source>> = {
  TextEncoder: 'realm',
  TextDecoder: 'realm',
  URL: 'realm',
  URLSearchParams: 'realm',
  atob: 'realm',
  btoa: 'realm',
  // The start compartment's Date and Math, untamed: a real clock and Math.random.
  Date: 'realm',
  Math: 'realm',
  crypto: 'realm',
  fetch: 'host',
};

export const ALLOWED_GLOBALS: readonly string[] = Object.freeze(Object.keys(ALLOWED));

/** Thrown when a vat asks for a global it may not have; the message names it. */
export class EndowmentError extends Error {
  override name = 'EndowmentError';
}

/**
 * Resolves the names a vat's config asks for into endowments.
 *
 * @param names - initVat.globals.
 * @param hostGlobals - what the host offers beyond the realm (e.g. `fetch`).
 */
export function selectGlobals(
  names: readonly string[],
  hostGlobals: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  const selected: Record<string, unknown> = {};
  const realm = globalThis as unknown as Record<string, unknown>;
  for (const name of names) {
    const source = Object.hasOwn(ALLOWED, name) ? ALLOWED[name] : undefined;
    if (source === undefined) {
      throw new EndowmentError(
        `global ${JSON.stringify(name)} is not allowed for vats (allowed: ${ALLOWED_GLOBALS.join(', ')})`,
      );
    }
    const value = source === 'host' ? hostGlobals[name] : realm[name];
    if (value === undefined) {
      throw new EndowmentError(
        `global ${JSON.stringify(name)} is not offered by this host`,
      );
    }
    selected[name] = value;
  }
  return selected;
}
