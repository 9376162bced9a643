/**
 * Which extra globals a vat may ask for (its config's `globals`), and what each is.
 *
 * A vat's Compartment starts with the ECMAScript intrinsics only (SES tames `Date.now`
 * and `Math.random` there) plus what liveslots adds; it gets exactly the names its config
 * lists, each from this allow-list, and nothing else (not even what `@endo/import-bundle`
 * would add on its own: see ./load-bundle.ts). The host's messaging and storage stay
 * out, and timers fire only inside cranks: liveslots relies on a vat losing agency once
 * its promise queue drains, and only the kernel touches the store.
 *
 * One vat must not be able to change what another sees, and in a shared realm (vats in
 * one thread, as the in-process tests run them) they share the realm's host classes. So
 * a realm class is hardened (frozen with its prototype chain) before any vat gets it, and
 * what would give a vat a shared mutable host object (`crypto`, `fetch`) is a frozen
 * wrapper of its own. What finishes asynchronously (`fetch`, body reads,
 * `crypto.subtle`) completes in a later crank of the vat (./completions.ts).
 */
import type { HostCompletions } from './completions.ts';
import { makeVatFetch, type HostFetch } from './network.ts';
import type { VatTimers } from './timers.ts';

/** Thrown when a vat asks for a global it may not have; the message names it. */
export class EndowmentError extends Error {
  override name = 'EndowmentError';
}

/** What one vat's endowments are made from. */
export interface EndowmentContext {
  /** The vat's config `network`; `fetch` needs it. */
  network: { allowedHosts: readonly string[] } | undefined;
  /** What the host offers beyond the realm (e.g. `fetch`). */
  hostGlobals: Readonly<Record<string, unknown>>;
  completions: HostCompletions;
  /** The vat's timers (./timers.ts), on the kernel's timer queue; needed for them. */
  timers?: VatTimers;
}

type Maker = (context: EndowmentContext) => unknown;

const realm = globalThis as unknown as Record<string, unknown>;

function fromRealm(name: string): unknown {
  const value = realm[name];
  if (value === undefined) {
    throw new EndowmentError(
      `global ${JSON.stringify(name)} is not offered by this host`,
    );
  }
  return value;
}

/**
 * A realm class or function, hardened in place (its prototype chain too), once: the
 * realm's own code keeps using it, frozen, and no vat can change it for another.
 */
const hardenedFromRealm =
  (name: string): Maker =>
  () =>
    harden(fromRealm(name));

/**
 * `AbortSignal.timeout` would abort a signal from a host timer, outside any crank; it is
 * replaced (realm-wide, once, before the class is hardened) by one that says so. A vat
 * that needs it uses `setTimeout` (./timers.ts) and `AbortController`.
 */
function abortClasses(): void {
  const Signal = fromRealm('AbortSignal') as typeof AbortSignal;
  if (!Object.isFrozen(Signal)) {
    Object.defineProperty(Signal, 'timeout', {
      value: function timeout() {
        throw TypeError(
          'AbortSignal.timeout is not available to vats (its timer would fire outside a crank); use setTimeout and an AbortController',
        );
      },
      writable: false,
      configurable: false,
    });
  }
  harden(Signal);
  harden(fromRealm('AbortController'));
}

/** crypto.subtle's methods: every one returns a promise. */
const SUBTLE_METHODS = [
  'encrypt',
  'decrypt',
  'sign',
  'verify',
  'digest',
  'generateKey',
  'deriveKey',
  'deriveBits',
  'importKey',
  'exportKey',
  'wrapKey',
  'unwrapKey',
] as const;

/** A CryptoKey (or a key pair of them) is frozen: its class is the realm's. */
const hardenKeys = (value: unknown): unknown => {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof ArrayBuffer) return value;
  const Key = realm.CryptoKey as (new () => object) | undefined;
  if (Key && value instanceof Key) return harden(value);
  const pair = value as { publicKey?: unknown; privateKey?: unknown };
  if (Key && pair.publicKey instanceof Key && pair.privateKey instanceof Key) {
    harden(pair.publicKey);
    harden(pair.privateKey);
    return harden(pair);
  }
  return value;
};

/** What is used of the host's Web Crypto. */
interface HostCrypto {
  getRandomValues<T>(array: T): T;
  randomUUID(): string;
  subtle: Record<
    (typeof SUBTLE_METHODS)[number],
    (...args: unknown[]) => Promise<unknown>
  >;
}

function makeCrypto({ completions }: EndowmentContext): unknown {
  const host = fromRealm('crypto') as HostCrypto;
  const subtle: Record<string, unknown> = {};
  for (const method of SUBTLE_METHODS) {
    subtle[method] = (...args: unknown[]) =>
      completions.defer(
        `crypto.subtle.${method}`,
        // A page that is not a secure context has no crypto.subtle.
        () =>
          typeof host.subtle?.[method] === 'function'
            ? host.subtle[method](...args)
            : Promise.reject(Error('this host offers no crypto.subtle')),
        hardenKeys,
      );
  }
  return harden({
    getRandomValues: <T>(array: T): T => host.getRandomValues(array),
    randomUUID: () => host.randomUUID(),
    subtle,
  });
}

function makeFetch({ network, hostGlobals, completions }: EndowmentContext): unknown {
  const hostFetch = hostGlobals.fetch as HostFetch | undefined;
  if (typeof hostFetch !== 'function') {
    throw new EndowmentError('global "fetch" is not offered by this host');
  }
  if (network === undefined) {
    throw new EndowmentError(
      'global "fetch" needs the hosts it may reach: give the vat config "network": { "allowedHosts": [...] }',
    );
  }
  return makeVatFetch(hostFetch, network.allowedHosts, completions);
}

/** One set of timers per vat, whichever of the four names it asks for. */
const timer =
  (name: keyof VatTimers): Maker =>
  ({ timers }) => {
    if (!timers) throw new EndowmentError(`global "${name}" is not offered here`);
    return timers[name];
  };

const ALLOWED: Readonly<Record<string, Maker>> = {
  TextEncoder: hardenedFromRealm('TextEncoder'),
  TextDecoder: hardenedFromRealm('TextDecoder'),
  URL: hardenedFromRealm('URL'),
  URLSearchParams: hardenedFromRealm('URLSearchParams'),
  atob: hardenedFromRealm('atob'),
  btoa: hardenedFromRealm('btoa'),
  AbortController: () => {
    abortClasses();
    return fromRealm('AbortController');
  },
  AbortSignal: () => {
    abortClasses();
    return fromRealm('AbortSignal');
  },
  // The start compartment's Date and Math, untamed: a real clock and Math.random. Both
  // are intrinsics, already hardened by lockdown.
  Date: () => fromRealm('Date'),
  Math: () => fromRealm('Math'),
  crypto: makeCrypto,
  fetch: makeFetch,
  // On the kernel's timer queue; callbacks run in settle cranks of the vat (./timers.ts).
  setTimeout: timer('setTimeout'),
  clearTimeout: timer('clearTimeout'),
  setInterval: timer('setInterval'),
  clearInterval: timer('clearInterval'),
};

export const ALLOWED_GLOBALS: readonly string[] = Object.freeze(Object.keys(ALLOWED));

/**
 * What a vat that did not ask for it must not have at all; Date and Math stay, tamed by
 * SES (no clock, no Math.random), unless granted.
 */
export const WITHHELD_GLOBALS: readonly string[] = Object.freeze(
  ALLOWED_GLOBALS.filter((name) => name !== 'Date' && name !== 'Math'),
);

/** Checks the names a vat's config asks for, before anything is made. */
export function checkGlobalNames(names: readonly string[]): void {
  for (const name of names) {
    if (!Object.hasOwn(ALLOWED, name)) {
      throw new EndowmentError(
        `global ${JSON.stringify(name)} is not allowed for vats (allowed: ${ALLOWED_GLOBALS.join(', ')})`,
      );
    }
  }
}

/**
 * Makes exactly the endowments a vat's config names (initVat.globals); throws an
 * EndowmentError naming the first that is not allowed or cannot be made.
 */
export function makeEndowments(
  names: readonly string[],
  context: EndowmentContext,
): Record<string, unknown> {
  checkGlobalNames(names);
  const endowments: Record<string, unknown> = {};
  for (const name of new Set(names)) {
    endowments[name] = (ALLOWED[name] as Maker)(context);
  }
  return endowments;
}
