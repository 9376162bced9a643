/**
 * The vat supervisor: what runs inside a vat's worker (a Node worker thread, a sandboxed
 * iframe). It turns the kernel's protocol messages into liveslots deliveries, serves
 * liveslots' vatstore syscalls from an in-memory cache, and answers each crank with one
 * reply carrying the crank's syscalls and vatstore delta.
 *
 * Platform-neutral: it imports no host module. The host supplies the few functions that
 * differ between hosts (quiescence, GC) and the transport (`post`, `handle`).
 *
 * The realm must already be locked down (import ./lockdown.ts first in the entry point).
 */
import { makeLiveSlots } from '@agoric/swingset-liveslots';
import { makeMarshal } from '@endo/marshal';
import { loadVatBundle } from './bundle-formats.ts';
import { makeVatHandledPromise } from './send-only.ts';
import {
  PROTOCOL_VERSION,
  ProtocolError,
  initVatPairs,
  parseKernelToVat,
  type CapData,
  type CrankDelta,
  type Deliver,
  type Delivery,
  type DeliveryReply,
  type InitVat,
  type Syscall,
  type VatToKernel,
  type VatstorePages,
} from '../kernel/protocol/index.ts';
import { HostCompletions } from './completions.ts';
import { WITHHELD_GLOBALS, makeEndowments } from './endowments.ts';
import { LogBudget, makeTestLog, makeVatLogger } from './logger.ts';
import { makeVatTimers } from './timers.ts';
import { VatstoreCache, type Vatstore } from './vatstore-cache.ts';
import { PagedVatstore } from './vatstore-pages.ts';

export { ALLOWED_GLOBALS, EndowmentError, checkGlobalNames } from './endowments.ts';
export { VatstoreCache } from './vatstore-cache.ts';
export { PagedVatstore } from './vatstore-pages.ts';
export type { VatLogger } from './logger.ts';

/** What a host gives the supervisor; everything that differs between Node and a browser. */
export interface SupervisorPlatform {
  WeakRef: WeakRefConstructor;
  FinalizationRegistry: FinalizationRegistryConstructor;
  /** Resolves once the promise queue has drained (i.e. from a later macrotask). */
  waitUntilQuiescent(): Promise<void>;
  /** Provokes a full GC and lets finalizers run, as far as the host can. */
  gcAndFinalize(): Promise<void>;
  /** Globals the host can offer vats beyond the realm's own, e.g. `fetch`. */
  hostGlobals?: Readonly<Record<string, unknown>>;
  /** Where liveslots and vat code log; defaults to the realm's console. */
  console?: Console;
  /**
   * The kernel's store, read synchronously, for a vat started `paged`; hosts that cannot
   * block for the kernel's answer leave it out, and the kernel sends the whole vatstore.
   * `maxKeyLength`: the longest key the host can ask for (a longer one loads it whole).
   */
  vatstorePages?: VatstorePages & { readonly maxKeyLength?: number };
  /**
   * Decodes a bundle's base64; defaults to @endo/base64's (native `Uint8Array.fromBase64`
   * where the engine has it, else JavaScript: ~15 ms for a vat bundle, on a resume's
   * critical path, where Node's Buffer takes under 1).
   */
  decodeBase64?: (text: string) => Uint8Array;
}

export interface VatSupervisorOptions {
  /** Sends one message to the kernel. */
  post(message: VatToKernel): void;
  platform: SupervisorPlatform;
}

export interface VatSupervisor {
  /**
   * Handles one message from the kernel. Resolves once its reply has been posted.
   *
   * A message that fails validation is answered when it can be addressed: an invalid
   * `deliver` with a usable crank number gets `deliveryFailed` for that crank (nothing ran,
   * so the delta is empty), an invalid `initVat` with a usable vatId gets `vatInitFailed`.
   * Anything else that cannot be answered within the protocol rejects with an error
   * saying why: a message with no usable type/crank, a `deliver` while another is
   * running, a second `initVat`. Those are kernel bugs that leave the two sides out of
   * step, so the host must treat a rejection as fatal for the vat (the Node worker
   * crashes, and the kernel sees the reason through `VatChannel.onExit`).
   */
  handle(message: unknown): Promise<void>;
}

/** liveslots' names for deliveries: positional tuples. */
type VatDeliveryObject =
  | ['message', string, { methargs: CapData; result: string | null }]
  | ['notify', [string, boolean, CapData][]]
  | ['dropExports' | 'retireExports' | 'retireImports', string[]]
  | ['bringOutYourDead']
  | ['startVat', CapData];

const emptyDelta = (): CrankDelta => ({ sets: [], deletes: [] });

function toVatDeliveryObject(delivery: Delivery): VatDeliveryObject {
  switch (delivery.kind) {
    case 'message':
      return [
        'message',
        delivery.target,
        { methargs: delivery.methargs, result: delivery.result },
      ];
    case 'notify':
      return [
        'notify',
        delivery.resolutions.map(
          ({ vpid, rejected, data }): [string, boolean, CapData] => [
            vpid,
            rejected,
            data,
          ],
        ),
      ];
    case 'dropExports':
    case 'retireExports':
    case 'retireImports':
      return [delivery.kind, delivery.vrefs];
    case 'bringOutYourDead':
      return ['bringOutYourDead'];
    case 'startVat':
      return ['startVat', delivery.parameters];
    case 'stopVat':
      // Liveslots' stopVat has done nothing but warn since 0.10 (agoric-sdk #6650: the
      // kernel cleans up after an upgrade); an empty delivery lets the vat's pending
      // reactions finish without the warning on every upgrade.
      return ['retireExports', []];
    case 'settle':
      // The supervisor settles its host completions first (see deliver); to liveslots
      // this is a delivery that does nothing, so that it waits for the vat's reactions
      // to finish and flushes its state, as after any delivery.
      return ['retireExports', []];
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A no-op meter control with SwingSet's dummy semantics: nothing is ever metered. */
function makeMeterControl() {
  let meteringDisabled = 0;
  const runWithoutMetering = <T>(thunk: () => T): T => {
    meteringDisabled += 1;
    try {
      return thunk();
    } finally {
      meteringDisabled -= 1;
    }
  };
  return harden({
    isMeteringDisabled: () => meteringDisabled > 0,
    assertIsMetered(message?: string) {
      assert(meteringDisabled === 0, message);
    },
    assertNotMetered(message?: string) {
      assert(meteringDisabled > 0, message);
    },
    runWithoutMetering,
    async runWithoutMeteringAsync<T>(thunk: () => T | Promise<T>): Promise<T> {
      meteringDisabled += 1;
      return Promise.resolve()
        .then(() => thunk())
        .finally(() => {
          meteringDisabled -= 1;
        });
    },
    unmetered<A extends unknown[], R>(fn: (...args: A) => R) {
      return harden((...args: A): R => runWithoutMetering(() => fn(...args)));
    },
  });
}

const CONSOLE_METHODS = [
  'debug',
  'log',
  'info',
  'warn',
  'error',
  'trace',
  'dir',
  'table',
  'group',
  'groupCollapsed',
  'groupEnd',
  'time',
  'timeEnd',
  'timeLog',
  'count',
  'countReset',
  'assert',
] as const;

/**
 * Errors made under SES print as `{}` through a console that SES has not tamed
 * (`consoleTaming: 'unsafe'` in ./lockdown.ts), so they are logged by their stack.
 */
const loggable = (arg: unknown): unknown =>
  arg instanceof Error ? (arg.stack ?? `${arg.name}: ${arg.message}`) : arg;

/**
 * A frozen console for vat code and liveslots that forwards to the host's. Hardening the
 * host's own console would freeze it for everyone else in this realm (a test runner).
 */
function makeVatConsole(base: Console): Console {
  const vatConsole: Record<string, unknown> = {};
  for (const name of CONSOLE_METHODS) {
    if (typeof base[name] !== 'function') continue;
    vatConsole[name] = (...args: unknown[]) =>
      (base[name] as (...a: unknown[]) => void)(...args.map(loggable));
  }
  return harden(vatConsole) as unknown as Console;
}

/** Made once, on first use: the realm's HandledPromise exists only after lockdown. */
let vatHandledPromise: unknown;
function handledPromiseForVats(): unknown {
  vatHandledPromise ??= makeVatHandledPromise(
    (
      globalThis as unknown as {
        HandledPromise: Parameters<typeof makeVatHandledPromise>[0];
      }
    ).HandledPromise,
  );
  return vatHandledPromise;
}

/** The vatstore an initVat asks for: the pairs it carries, or paged from the kernel. */
function openVatstore(
  message: InitVat,
  pages: SupervisorPlatform['vatstorePages'],
): Vatstore {
  if (message.paged !== true) return new VatstoreCache(initVatPairs(message.state));
  if (pages === undefined) {
    throw new ProtocolError(
      'initVat asks for a paged vatstore, and this host cannot serve one',
    );
  }
  if (initVatPairs(message.state).length > 0) {
    throw new ProtocolError('a paged initVat must carry no state');
  }
  return new PagedVatstore(
    pages,
    pages.maxKeyLength === undefined ? {} : { maxKeyLength: pages.maxKeyLength },
  );
}

export function makeVatSupervisor({
  post,
  platform,
}: VatSupervisorOptions): VatSupervisor {
  const vatConsole = makeVatConsole(platform.console ?? console);
  const gcTools = harden({
    WeakRef: platform.WeakRef,
    FinalizationRegistry: platform.FinalizationRegistry,
    waitUntilQuiescent: platform.waitUntilQuiescent,
    gcAndFinalize: platform.gcAndFinalize,
    meterControl: makeMeterControl(),
  });

  let vatId: string | undefined;
  let dispatch: ((delivery: VatDeliveryObject) => Promise<unknown>) | undefined;
  let store: Vatstore | undefined;
  /** The crank being delivered, if any. */
  let running: number | undefined;
  /**
   * Set when a delivery failed. The kernel rolls that crank back, but this vat's memory
   * (the vatstore cache, liveslots' tables) still holds it, so the vat must not run
   * another crank ahead of the store: the kernel has to restart it from the store.
   */
  let failedCrank: number | undefined;
  /** Syscalls made since the last reply, in order. */
  let syscalls: Syscall[] = [];
  /** Log lines go to the kernel as they are written, bounded per crank. */
  const logBudget = new LogBudget((line) => post({ type: 'vatLog', ...line }));
  /** What the host finishes for the vat waits here for a settle delivery. */
  const completions = new HostCompletions(() => post({ type: 'settleRequest' }));
  /** setTimeout and friends: syscalls to the kernel's timer queue (./timers.ts). */
  const vatTimers = makeVatTimers(
    {
      set: (id, ms) => syscalls.push({ kind: 'setTimer', id, ms }),
      clear: (id) => syscalls.push({ kind: 'clearTimer', id }),
    },
    (error) => vatConsole.error('a timer callback threw:', error),
  );
  /**
   * The powers every vat gets (liveslots adds D, exitVat and exitVatWithFailure): a
   * logger in ocap-kernel's shape, SwingSet's testLog and makeMarshal.
   */
  const vatPowers = harden({
    logger: makeVatLogger(logBudget),
    testLog: makeTestLog(logBudget),
    makeMarshal,
  });

  const cache = (): Vatstore => {
    if (store === undefined) throw Error('vatstore used before initVat');
    return store;
  };

  const syscall = {
    send(target: string, methargs: CapData, result?: string | null) {
      syscalls.push({ kind: 'send', target, methargs, result: result ?? null });
    },
    subscribe(vpid: string) {
      syscalls.push({ kind: 'subscribe', vpid });
    },
    resolve(resolutions: [string, boolean, CapData][]) {
      syscalls.push({
        kind: 'resolve',
        resolutions: resolutions.map(([vpid, rejected, data]) => ({
          vpid,
          rejected,
          data,
        })),
      });
    },
    exit(failure: boolean, info: CapData) {
      syscalls.push({ kind: 'exit', failure, info });
    },
    dropImports(vrefs: string[]) {
      syscalls.push({ kind: 'dropImports', vrefs });
    },
    retireImports(vrefs: string[]) {
      syscalls.push({ kind: 'retireImports', vrefs });
    },
    retireExports(vrefs: string[]) {
      syscalls.push({ kind: 'retireExports', vrefs });
    },
    abandonExports(vrefs: string[]) {
      syscalls.push({ kind: 'abandonExports', vrefs });
    },
    callNow(): never {
      throw Error('devices are not supported');
    },
    vatstoreGet: (key: string) => cache().get(key),
    vatstoreGetNextKey: (priorKey: string) => cache().getNextKey(priorKey),
    vatstoreSet: (key: string, value: string) => cache().set(key, value),
    vatstoreDelete: (key: string) => cache().delete(key),
  };

  const initFailed = (id: string, error: string) =>
    post({ type: 'vatInitFailed', protocolVersion: PROTOCOL_VERSION, vatId: id, error });

  function initVat(message: InitVat): void {
    if (vatId !== undefined) {
      throw new ProtocolError(
        `initVat for ${message.vatId} but this supervisor already runs ${vatId}`,
      );
    }
    let extraGlobals: Record<string, unknown>;
    try {
      extraGlobals = makeEndowments(message.globals, {
        network: message.network,
        hostGlobals: platform.hostGlobals ?? {},
        completions,
        timers: vatTimers.timers,
      });
    } catch (error) {
      initFailed(message.vatId, describeError(error));
      return;
    }
    let bundle: InitVat['bundle'] | undefined = message.bundle;
    const bundleUrl = `vat-${message.vatId}`;
    // liveslots calls this once, from startVat, after it has set up VatData.
    const buildVatNamespace = async (
      vatGlobals: Record<string, unknown>,
      inescapableGlobalProperties: Record<string, unknown>,
    ) => {
      if (bundle === undefined) throw Error('vat namespace already built');
      const toImport = bundle;
      bundle = undefined;
      return loadVatBundle(toImport, {
        bundleUrl,
        globals: {
          ...extraGlobals,
          console: vatConsole,
          assert: globalThis.assert,
          HandledPromise: handledPromiseForVats(),
          ...vatGlobals,
        },
        inescapableGlobalProperties,
        withheld: WITHHELD_GLOBALS,
        ...(platform.decodeBase64 && { decodeBase64: platform.decodeBase64 }),
      });
    };
    try {
      store = openVatstore(message, platform.vatstorePages);
      ({ dispatch } = makeLiveSlots(
        syscall,
        message.vatId,
        vatPowers,
        {},
        gcTools,
        vatConsole,
        buildVatNamespace,
      ));
    } catch (error) {
      store = undefined;
      initFailed(message.vatId, describeError(error));
      return;
    }
    vatId = message.vatId;
    post({
      type: 'vatReady',
      protocolVersion: PROTOCOL_VERSION,
      vatId: message.vatId,
      outcome: 'ok',
    });
  }

  async function deliver({ crank, delivery }: Deliver): Promise<void> {
    if (running !== undefined) {
      throw new ProtocolError(`deliver for crank ${crank} while crank ${running} runs`);
    }
    if (dispatch === undefined || failedCrank !== undefined) {
      post({
        type: 'deliveryFailed',
        crank,
        outcome: 'error',
        error:
          dispatch === undefined
            ? 'ProtocolError: deliver before initVat'
            : `vat ${vatId} failed in crank ${failedCrank} and must be restarted from the store`,
        syscalls: [],
        delta: emptyDelta(),
      });
      return;
    }
    running = crank;
    let reply: DeliveryReply;
    try {
      // The vat's reactions to them run in this crank, before liveslots sees it quiet.
      if (delivery.kind === 'settle') {
        completions.settleAll();
        vatTimers.fire(delivery.timers ?? []);
      }
      const result = await dispatch(toVatDeliveryObject(delivery));
      reply = {
        type: 'delivered',
        crank,
        outcome: 'ok',
        syscalls,
        delta: cache().takeDelta(),
      };
      // Only bringOutYourDead returns something: liveslots' retention stats.
      if (isRecord(result)) reply.info = result;
    } catch (error) {
      failedCrank = crank;
      reply = {
        type: 'deliveryFailed',
        crank,
        outcome: 'error',
        error: describeError(error),
        syscalls,
        delta: cache().takeDelta(),
      };
    }
    syscalls = [];
    // Cleared before posting: an in-process kernel may deliver again from inside post.
    running = undefined;
    logBudget.endCrank();
    post(reply);
  }

  function answerInvalid(message: unknown, error: unknown): void {
    const reason = describeError(error);
    if (isRecord(message)) {
      const { type, crank, vatId: id } = message;
      if (
        type === 'deliver' &&
        running === undefined &&
        typeof crank === 'number' &&
        Number.isSafeInteger(crank) &&
        crank >= 0
      ) {
        post({
          type: 'deliveryFailed',
          crank,
          outcome: 'error',
          error: reason,
          syscalls: [],
          delta: emptyDelta(),
        });
        return;
      }
      if (type === 'initVat' && typeof id === 'string' && vatId === undefined) {
        initFailed(id, reason);
        return;
      }
    }
    throw error instanceof ProtocolError ? error : new ProtocolError(reason);
  }

  async function handle(message: unknown): Promise<void> {
    // A kernel speaking another version may have changed any field, so the version is
    // checked before the shape.
    if (
      isRecord(message) &&
      message.type === 'initVat' &&
      message.protocolVersion !== PROTOCOL_VERSION &&
      typeof message.protocolVersion === 'number'
    ) {
      const id = typeof message.vatId === 'string' ? message.vatId : '';
      initFailed(
        id,
        `protocol version mismatch: kernel speaks ${message.protocolVersion}, this vat supervisor speaks ${PROTOCOL_VERSION}`,
      );
      return;
    }
    let parsed;
    try {
      parsed = parseKernelToVat(message);
    } catch (error) {
      answerInvalid(message, error);
      return;
    }
    if (parsed.type === 'deliver') {
      await deliver(parsed);
    } else {
      initVat(parsed);
    }
  }

  return harden({ handle });
}
