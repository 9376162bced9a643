/**
 * Hand-written checks for the two messages of every crank: `deliver` (kernel → vat) and
 * `delivered` (vat → kernel). Each answers only "certainly valid"; anything else goes to
 * the superstruct schemas in ./index.ts, which decide and word the error. So a check may
 * be stricter than its schema (it then merely costs time), never looser; a property test
 * (./fast-checks.test.ts) holds them equal on generated messages.
 *
 * Written for data as a message arrives (a structured clone or JSON.parse: plain objects
 * and arrays, no getters or proxies). Objects are walked with `for…in`, which sees every
 * key `Object.keys` sees (and inherited enumerable ones, which only make a check stricter).
 */
import type { Deliver, VatToKernel } from './index.ts';

// The same patterns as the schemas' (no g or y flag, so `test` keeps no state).
export const VREF_PATTERN = /^[op][+-][0-9a-z/:+-]*$/u;
export const VPID_PATTERN = /^p[+-]\d+$/u;

type Rec = Record<string, unknown>;

const isRecord = (value: unknown): value is Rec =>
  typeof value === 'object' && value !== null;

/** True if every enumerable key of `value` is one of `known`. */
function keysWithin(value: Rec, known: ReadonlySet<string>): boolean {
  for (const key in value) {
    if (!known.has(key)) return false;
  }
  return true;
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isVref = (value: unknown): boolean => isString(value) && VREF_PATTERN.test(value);
const isVpid = (value: unknown): boolean => isString(value) && VPID_PATTERN.test(value);
const isCrank = (value: unknown): boolean =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0;

function isArrayOf(value: unknown, item: (element: unknown) => boolean): boolean {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) {
    if (!item(value[i])) return false;
  }
  return true;
}

const vrefList = (value: unknown): boolean => isArrayOf(value, isVref);

const CAPDATA_KEYS = new Set(['body', 'slots']);
function isCapData(value: unknown): boolean {
  return (
    isRecord(value) &&
    keysWithin(value, CAPDATA_KEYS) &&
    isString(value.body) &&
    isArrayOf(value.slots, isString)
  );
}

const RESOLUTION_KEYS = new Set(['vpid', 'rejected', 'data']);
function isResolution(value: unknown): boolean {
  return (
    isRecord(value) &&
    keysWithin(value, RESOLUTION_KEYS) &&
    isVpid(value.vpid) &&
    typeof value.rejected === 'boolean' &&
    isCapData(value.data)
  );
}

/** Keys of each tagged variant, tag included. */
const keySets = <T extends string>(variants: Record<T, string[]>) =>
  new Map(
    Object.entries<string[]>(variants).map(([tag, keys]) => [tag, new Set(keys)]),
  ) as Map<string, ReadonlySet<string>>;

const DELIVERY_KEYS = keySets({
  message: ['kind', 'target', 'methargs', 'result'],
  notify: ['kind', 'resolutions'],
  dropExports: ['kind', 'vrefs'],
  retireExports: ['kind', 'vrefs'],
  retireImports: ['kind', 'vrefs'],
  bringOutYourDead: ['kind'],
  startVat: ['kind', 'parameters'],
  stopVat: ['kind', 'disconnect'],
  settle: ['kind', 'timers'],
});

const isTimerId = (value: unknown): boolean =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;

function isDelivery(value: unknown): boolean {
  if (!isRecord(value)) return false;
  const { kind } = value;
  const keys = isString(kind) ? DELIVERY_KEYS.get(kind) : undefined;
  if (keys === undefined || !keysWithin(value, keys)) return false;
  switch (kind) {
    case 'message':
      return (
        isVref(value.target) &&
        isCapData(value.methargs) &&
        (value.result === null || isVpid(value.result))
      );
    case 'notify':
      return isArrayOf(value.resolutions, isResolution);
    case 'dropExports':
    case 'retireExports':
    case 'retireImports':
      return vrefList(value.vrefs);
    case 'bringOutYourDead':
      return true;
    case 'startVat':
      return isCapData(value.parameters);
    case 'stopVat':
      return isCapData(value.disconnect);
    case 'settle':
      return !Object.hasOwn(value, 'timers') || isArrayOf(value.timers, isTimerId);
    default:
      return false;
  }
}

const SYSCALL_KEYS = keySets({
  send: ['kind', 'target', 'methargs', 'result'],
  resolve: ['kind', 'resolutions'],
  subscribe: ['kind', 'vpid'],
  exit: ['kind', 'failure', 'info'],
  dropImports: ['kind', 'vrefs'],
  retireImports: ['kind', 'vrefs'],
  retireExports: ['kind', 'vrefs'],
  abandonExports: ['kind', 'vrefs'],
  setTimer: ['kind', 'id', 'ms'],
  clearTimer: ['kind', 'id'],
});

function isSyscall(value: unknown): boolean {
  if (!isRecord(value)) return false;
  const { kind } = value;
  const keys = isString(kind) ? SYSCALL_KEYS.get(kind) : undefined;
  if (keys === undefined || !keysWithin(value, keys)) return false;
  switch (kind) {
    case 'send':
      return (
        isVref(value.target) &&
        isCapData(value.methargs) &&
        (value.result === null || isVpid(value.result))
      );
    case 'resolve':
      return isArrayOf(value.resolutions, isResolution);
    case 'subscribe':
      return isVpid(value.vpid);
    case 'exit':
      return typeof value.failure === 'boolean' && isCapData(value.info);
    case 'dropImports':
    case 'retireImports':
    case 'retireExports':
    case 'abandonExports':
      return vrefList(value.vrefs);
    case 'setTimer':
      return (
        isTimerId(value.id) &&
        typeof value.ms === 'number' &&
        Number.isInteger(value.ms) &&
        value.ms >= 0 &&
        value.ms <= 2 ** 31 - 1
      );
    case 'clearTimer':
      return isTimerId(value.id);
    default:
      return false;
  }
}

const isStringPair = (value: unknown): boolean =>
  Array.isArray(value) && value.length === 2 && isString(value[0]) && isString(value[1]);

const DELTA_KEYS = new Set(['sets', 'deletes']);
function isDelta(value: unknown): boolean {
  return (
    isRecord(value) &&
    keysWithin(value, DELTA_KEYS) &&
    isArrayOf(value.sets, isStringPair) &&
    isArrayOf(value.deletes, isString)
  );
}

const DELIVER_KEYS = new Set(['type', 'crank', 'delivery']);

/** Certainly a valid `deliver` message (false: ask the schema). */
export function isValidDeliver(value: unknown): value is Deliver {
  return (
    isRecord(value) &&
    value.type === 'deliver' &&
    keysWithin(value, DELIVER_KEYS) &&
    isCrank(value.crank) &&
    isDelivery(value.delivery)
  );
}

const DELIVERED_KEYS = new Set(['type', 'crank', 'outcome', 'syscalls', 'delta', 'info']);

/** Certainly a valid `delivered` message (false: ask the schema). */
export function isValidDelivered(
  value: unknown,
): value is Extract<VatToKernel, { type: 'delivered' }> {
  return (
    isRecord(value) &&
    value.type === 'delivered' &&
    keysWithin(value, DELIVERED_KEYS) &&
    isCrank(value.crank) &&
    value.outcome === 'ok' &&
    isArrayOf(value.syscalls, isSyscall) &&
    isDelta(value.delta) &&
    // `info` is optional but, when present as an own key, any object (a record of
    // unknowns); an inherited `info` is not looked at, as by the schema.
    (!Object.hasOwn(value, 'info') || isRecord(value.info))
  );
}

/** An array of [string, string]: a vatstore's pairs. */
export const isStringPairs = (value: unknown): boolean => isArrayOf(value, isStringPair);

/**
 * True for an object typed `initVat` whose `state` is certainly a string or an array of
 * [string, string]: the vatstore it carries (100k pairs at 100k keys, which the schema
 * took most of a worker's start to check). Its other fields are the schema's to decide.
 */
export function hasValidInitVatState(value: unknown): value is Rec & { state: unknown } {
  return (
    isRecord(value) &&
    value.type === 'initVat' &&
    (isString(value.state) || isStringPairs(value.state))
  );
}
