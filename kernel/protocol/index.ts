/**
 * The kernel–vat protocol: named, versioned messages, validated at both ends.
 *
 * The kernel sends `initVat` once per incarnation and then one `deliver` per crank; the
 * vat answers each with exactly one reply tagged with the same crank number. Syscalls
 * that need no answer (send, resolve, subscribe, exit, GC syscalls) travel inside the
 * delivery reply, in the order the vat made them: the crank is atomic anyway, and one
 * message per crank instead of one per syscall is what keeps a delivery cheap. Vatstore
 * reads are served inside the vat from its copy of the store; vatstore writes come back as
 * the crank delta. See docs/protocol.md.
 */
import {
  array,
  boolean,
  define,
  dynamic,
  literal,
  nullable,
  number,
  object,
  pattern,
  record,
  string,
  tuple,
  union,
  type Infer,
  type Struct,
  validate,
  integer,
  min,
  unknown,
  exactOptional,
  enums,
  size,
} from '@metamask/superstruct';
import {
  VPID_PATTERN,
  VREF_PATTERN,
  hasValidInitVatState,
  isStringPairs,
  isValidDeliver,
  isValidDelivered,
} from './fast-checks.ts';

export const PROTOCOL_VERSION = 1;

const vref = pattern(string(), VREF_PATTERN);
const vpid = pattern(string(), VPID_PATTERN);
const crankNumber = min(integer(), 0);
/** A heap timer's id within its worker (vat-supervisor/timers.ts). */
const timerId = size(integer(), 1, Number.MAX_SAFE_INTEGER);

export const CapDataStruct = object({ body: string(), slots: array(string()) });
export type CapData = Infer<typeof CapDataStruct>;

const ResolutionStruct = object({ vpid, rejected: boolean(), data: CapDataStruct });
export type Resolution = Infer<typeof ResolutionStruct>;

/** Endo's archive (@endo/bundle-source): what SwingSet and Cask's own bundler write. */
export const EndoZipBundleStruct = object({
  moduleFormat: literal('endoZipBase64'),
  endoZipBase64: string(),
  endoZipBase64Sha512: string(),
});
/** What ocap-kernel's `ocap bundle` writes today (vite): a script assigning `__vatExports__`. */
export const IifeBundleStruct = object({
  moduleFormat: literal('iife'),
  code: string(),
  exports: array(string()),
  external: array(string()),
});

/** How superstruct prints a received value in its messages. */
const print = (value: unknown): string =>
  typeof value === 'symbol'
    ? value.toString()
    : typeof value === 'string'
      ? JSON.stringify(value)
      : `${value as string}`;

/** Picks the struct for a tagged object by its tag, so errors name the right variant. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- superstruct's Struct is invariant
function tagged<T extends Record<string, Struct<any, any>>>(
  tag: string,
  variants: T,
): Struct<Infer<T[keyof T]>, null> {
  const known = Object.keys(variants).join(', ');
  // Worded as superstruct words a failed literal, but fails for every value: a literal
  // would let through a tag spelled like this text.
  const expected = `Expected the literal \`${print(`one of: ${known}`)}\`, but received: `;
  const unknownTag = object({
    [tag]: define<string>('literal', (value) => `${expected}${print(value)}`),
  });
  return dynamic((value) => {
    const name =
      typeof value === 'object' && value !== null
        ? (value as Record<string, unknown>)[tag]
        : undefined;
    return (typeof name === 'string' && Object.hasOwn(variants, name)
      ? variants[name]
      : unknownTag) as unknown as Struct<Infer<T[keyof T]>, null>;
  }) as Struct<Infer<T[keyof T]>, null>;
}

const BundleStruct = tagged('moduleFormat', {
  endoZipBase64: EndoZipBundleStruct,
  iife: IifeBundleStruct,
});
export type VatBundle = Infer<typeof BundleStruct>;

const vrefList = array(vref);

export const DeliveryStruct = tagged('kind', {
  message: object({
    kind: literal('message'),
    target: vref,
    methargs: CapDataStruct,
    result: nullable(vpid),
  }),
  notify: object({ kind: literal('notify'), resolutions: array(ResolutionStruct) }),
  dropExports: object({ kind: literal('dropExports'), vrefs: vrefList }),
  retireExports: object({ kind: literal('retireExports'), vrefs: vrefList }),
  retireImports: object({ kind: literal('retireImports'), vrefs: vrefList }),
  bringOutYourDead: object({ kind: literal('bringOutYourDead') }),
  startVat: object({ kind: literal('startVat'), parameters: CapDataStruct }),
  stopVat: object({ kind: literal('stopVat'), disconnect: CapDataStruct }),
  /**
   * Cask's own: a crank in which the supervisor settles what the host finished for the
   * vat since it asked (an endowed fetch's response, a body read, crypto.subtle), so
   * the vat's reactions run inside a crank. The vat asked for it with `settleRequest`.
   * `timers`: the heap timers (setTimeout, setInterval) whose time came, whose callbacks
   * run in it, in this order.
   */
  settle: object({ kind: literal('settle'), timers: exactOptional(array(timerId)) }),
});
export type Delivery = Infer<typeof DeliveryStruct>;

export const SyscallStruct = tagged('kind', {
  send: object({
    kind: literal('send'),
    target: vref,
    methargs: CapDataStruct,
    result: nullable(vpid),
  }),
  resolve: object({ kind: literal('resolve'), resolutions: array(ResolutionStruct) }),
  subscribe: object({ kind: literal('subscribe'), vpid }),
  exit: object({ kind: literal('exit'), failure: boolean(), info: CapDataStruct }),
  dropImports: object({ kind: literal('dropImports'), vrefs: vrefList }),
  retireImports: object({ kind: literal('retireImports'), vrefs: vrefList }),
  retireExports: object({ kind: literal('retireExports'), vrefs: vrefList }),
  abandonExports: object({ kind: literal('abandonExports'), vrefs: vrefList }),
  /**
   * Cask's own: arm heap timer `id` to come due `ms` after the crank's time, in the
   * kernel's timer queue (not stored; it ends with the worker). It comes back in a
   * `settle` delivery's `timers`.
   */
  setTimer: object({
    kind: literal('setTimer'),
    id: timerId,
    ms: size(integer(), 0, 2 ** 31 - 1),
  }),
  /** Cask's own: disarm heap timer `id` (nothing if it is not armed). */
  clearTimer: object({ kind: literal('clearTimer'), id: timerId }),
});
export type Syscall = Infer<typeof SyscallStruct>;

export const DeltaStruct = object({
  sets: array(tuple([string(), string()])),
  deletes: array(string()),
});
/** The net change a crank made to a vat's vatstore. */
export type CrankDelta = Infer<typeof DeltaStruct>;

// ---- kernel → vat ----

export const InitVatStruct = object({
  type: literal('initVat'),
  protocolVersion: number(),
  vatId: string(),
  incarnation: min(integer(), 0),
  bundle: BundleStruct,
  /** Names of extra globals the vat's config allows (see vat-supervisor/endowments). */
  globals: array(string()),
  /** The vat config's `network`: the hosts an endowed `fetch` may reach. */
  network: exactOptional(object({ allowedHosts: array(string()) })),
  /**
   * The vat's vatstore: its [key, value] pairs, or (what the kernel sends) the JSON text
   * of them, which crosses a thread or process for a fraction of the pairs' cost.
   */
  state: union([array(tuple([string(), string()])), string()]),
  /**
   * When true, `state` is empty and the vat reads its vatstore from the kernel the first
   * time it needs a key, synchronously, through its host (SupervisorPlatform.vatstorePages;
   * docs/store.md "Paged vatstores").
   */
  paged: exactOptional(boolean()),
});
export type InitVat = Infer<typeof InitVatStruct>;

/**
 * A vatstore key with a character of U+E000–U+FFFF: JavaScript (UTF-16) and SQLite (UTF-8)
 * order such a key differently against one with a character above U+FFFF, so a vatstore
 * holding one is not paged (a paged vat walks the kernel's order as if it were its own).
 */
export const ORDER_SENSITIVE_KEY = /[\uE000-\uFFFF]/u;

/**
 * A paged vatstore's reads of the committed store (what the kernel holds, as of the start
 * of the vat's current crank), made synchronously from inside a delivery. The kernel
 * serves them for a vat it started with `paged`; the vat's host carries them.
 */
export interface VatstorePages {
  /** The committed value of `key`, or undefined if it is not set. */
  get(key: string): string | undefined;
  /**
   * The first committed entries after `priorKey`, in key order (at least one unless `end`);
   * with `leavePrefix`, only keys that do not start with `priorKey`. `end`: no key follows
   * the last entry.
   */
  next(
    priorKey: string,
    leavePrefix: boolean,
  ): { entries: Array<[string, string]>; end: boolean };
  /** The whole committed vatstore, as the JSON text an initVat's `state` carries. */
  all(): string;
}

/** The pairs of an initVat's `state`; throws ProtocolError naming what was wrong. */
export function initVatPairs(state: InitVat['state']): Array<[string, string]> {
  if (typeof state !== 'string') return state;
  let parsed: unknown;
  try {
    parsed = JSON.parse(state);
  } catch (error) {
    throw new ProtocolError(`invalid initVat state: not JSON (${String(error)})`);
  }
  if (!isStringPairs(parsed)) {
    throw new ProtocolError('invalid initVat state: not an array of [string, string]');
  }
  return parsed as Array<[string, string]>;
}

export const DeliverStruct = object({
  type: literal('deliver'),
  crank: crankNumber,
  delivery: DeliveryStruct,
});
export type Deliver = Infer<typeof DeliverStruct>;

export const KernelToVatStruct = tagged('type', {
  initVat: InitVatStruct,
  deliver: DeliverStruct,
});
export type KernelToVat = Infer<typeof KernelToVatStruct>;

// ---- vat → kernel ----

export const VatReadyStruct = object({
  type: literal('vatReady'),
  protocolVersion: number(),
  vatId: string(),
  outcome: literal('ok'),
});

export const VatInitFailedStruct = object({
  type: literal('vatInitFailed'),
  protocolVersion: number(),
  vatId: string(),
  error: string(),
});

export const DeliveredStruct = object({
  type: literal('delivered'),
  crank: crankNumber,
  outcome: literal('ok'),
  syscalls: array(SyscallStruct),
  delta: DeltaStruct,
  /** Whatever `bringOutYourDead` reports (liveslots retention stats); informational. */
  info: exactOptional(record(string(), unknown())),
});

export const DeliveryFailedStruct = object({
  type: literal('deliveryFailed'),
  crank: crankNumber,
  outcome: literal('error'),
  error: string(),
  syscalls: array(SyscallStruct),
  delta: DeltaStruct,
});

/** Levels of a vat's log line; `test` is SwingSet's testLog (test output). */
export const VAT_LOG_LEVELS = ['debug', 'log', 'info', 'warn', 'error', 'test'] as const;
export type VatLogLevel = (typeof VAT_LOG_LEVELS)[number];

/**
 * One line a vat logged through `vatPowers.logger` or `testLog`. Sent on its own, at
 * any time, outside the crank's reply: a log line is not a syscall and changes no state.
 */
/**
 * Bounds on a vat's logging, kept by the supervisor and enforced again by the kernel: a
 * line's text (UTF-16 code units) and tags are cut, and lines past `linesPerDelivery` in
 * one crank are dropped and counted.
 */
export const VAT_LOG_LIMITS = Object.freeze({
  textLength: 4096,
  tags: 16,
  tagLength: 64,
  linesPerDelivery: 256,
});

/** A log line's text cut to the limit, saying how long it was; at most `max` long. */
export function cutLogText(
  text: string,
  max: number = VAT_LOG_LIMITS.textLength,
): string {
  if (text.length <= max) return text;
  const note = `… (${text.length} characters in all)`;
  return `${text.slice(0, Math.max(0, max - note.length))}${note}`;
}

export const VatLogStruct = object({
  type: literal('vatLog'),
  level: enums(VAT_LOG_LEVELS),
  tags: array(string()),
  text: string(),
});
export type VatLog = Infer<typeof VatLogStruct>;

/**
 * The vat's host finished something the vat waits on (an endowed fetch…): the vat asks
 * for a `settle` delivery, in which the supervisor hands the vat the results. Sent at
 * any time; the kernel queues at most one settle delivery per request.
 */
export const SettleRequestStruct = object({ type: literal('settleRequest') });

export const VatToKernelStruct = tagged('type', {
  vatReady: VatReadyStruct,
  vatInitFailed: VatInitFailedStruct,
  delivered: DeliveredStruct,
  deliveryFailed: DeliveryFailedStruct,
  vatLog: VatLogStruct,
  settleRequest: SettleRequestStruct,
});
export type VatToKernel = Infer<typeof VatToKernelStruct>;
export type DeliveryReply =
  Infer<typeof DeliveredStruct> | Infer<typeof DeliveryFailedStruct>;

/** Thrown for a message that fails validation; names the message and what was wrong. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see tagged()
function check<T>(struct: Struct<T, any>, value: unknown, what: string): T {
  const [failure, valid] = validate(value, struct);
  if (failure) {
    const where = failure.path.length ? ` at ${failure.path.join('.')}` : '';
    throw new ProtocolError(`invalid ${what}${where}: ${failure.message}`);
  }
  return valid as T;
}

// The messages of every crank take a hand-written check first (./fast-checks.ts: about a
// hundredth of the schema's cost); whatever it does not pass, the schema decides.

export const parseVatToKernel = (value: unknown): VatToKernel =>
  isValidDelivered(value) ? value : check(VatToKernelStruct, value, 'message from vat');

export function parseKernelToVat(value: unknown): KernelToVat {
  if (isValidDeliver(value)) return value;
  if (hasValidInitVatState(value)) {
    // The vatstore's pairs passed the hand-written check; the schema decides the rest.
    check(KernelToVatStruct, { ...value, state: [] }, 'message from kernel');
    return value as InitVat;
  }
  return check(KernelToVatStruct, value, 'message from kernel');
}
