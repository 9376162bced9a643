/**
 * Launches real clusters for kernel tests: real bundles, real workers, real liveslots,
 * real sql.js. Optional `tamper` edits what a vat sends to the kernel, at the channel.
 */
import { resolve } from 'node:path';
import {
  capdataToJson,
  type CrankRecord,
  type DurableStorage,
  type KernelStore,
  type KRef,
  type RowChange,
  type ResolvedCluster,
  type Kernel,
  type Settlement,
  type VatChannel,
  type VatLauncher,
} from '../kernel/index.ts';
import { bundleVatSource } from './fixtures/bundle-cache.ts';
import { makeNodeKernel } from '../node/host/index.ts';
import { makeNodeVatLauncher } from '../node/vat-worker/index.ts';

export type Tamper = (vatId: string, message: unknown) => unknown;

export interface TestCluster {
  kernel: Kernel;
  store: KernelStore;
  cranks: CrankRecord[];
  commits: RowChange[][];
  bootstrapResult: Settlement;
  /** Sends to the root of vat `name` (or to a kref) and returns the result as JSON. */
  call(target: string, method: string, ...args: unknown[]): Promise<unknown>;
  /** Like call, but returns the raw settlement. */
  send(target: string, method: string, ...args: unknown[]): Promise<Settlement>;
  vatId(name: string): string;
  close(): Promise<void>;
}

const VATS = resolve(import.meta.dirname, 'vats');
const SAMPLES = resolve(import.meta.dirname, '../vats');

export const testVat = (file: string): string => resolve(VATS, file);
export const sampleVat = (file: string): string => resolve(SAMPLES, file);

/** A vat's `delivered` reply, as far as the tests edit it. */
interface Reply {
  type?: string;
  crank?: number;
  syscalls?: unknown[];
  delta?: unknown;
}

/** Edits the tests make to one reply, to break the protocol in a known way. */
export const replyEdits = {
  /** Keeps the vat's real syscalls and delta, and adds a resolve of a promise it never had. */
  bogusResolve: (m: Reply): unknown => ({
    ...m,
    syscalls: [
      ...(m.syscalls ?? []),
      {
        kind: 'resolve',
        resolutions: [
          { vpid: 'p-99', rejected: false, data: { body: '#null', slots: [] } },
        ],
      },
    ],
  }),
  /** A reply to the wrong crank (after the vat did its work). */
  wrongCrank: (m: Reply): unknown => ({ ...m, crank: (m.crank ?? 0) + 1000 }),
};

/**
 * A tamper that does nothing until armed, then applies `edit` to the next `delivered`
 * reply, once.
 */
export function tamperNextReply(edit: (reply: Reply) => unknown): {
  tamper: Tamper;
  arm(): void;
} {
  let armed = false;
  return {
    tamper: (_vatId, message) => {
      const m = message as Reply;
      if (!armed || m.type !== 'delivered') return message;
      armed = false;
      return edit(m);
    },
    arm: () => {
      armed = true;
    },
  };
}

export function tamperingLauncher(inner: VatLauncher, tamper: Tamper): VatLauncher {
  return {
    async launch(vatId) {
      const channel = await inner.launch(vatId);
      const wrapped: VatChannel = {
        send: (m) => channel.send(m),
        onMessage: (handler) => channel.onMessage((m) => handler(tamper(vatId, m))),
        onExit: (handler) => channel.onExit(handler),
        close: () => channel.close(),
      };
      return wrapped;
    },
  };
}

export type TestVats = Record<
  string,
  { source: string; parameters?: Record<string, unknown>; deliveryTimeoutMs?: number }
>;

/** Bundles each vat's source into a cluster the kernel can launch. */
export async function resolveCluster(
  vats: TestVats,
  bootstrap: string,
): Promise<ResolvedCluster> {
  const resolved: ResolvedCluster['vats'] = {};
  for (const [name, vat] of Object.entries(vats)) {
    resolved[name] = {
      bundle: await bundleVatSource(vat.source),
      parameters: vat.parameters ?? {},
      globals: [],
      ...(vat.deliveryTimeoutMs ? { deliveryTimeoutMs: vat.deliveryTimeoutMs } : {}),
    };
  }
  return { bootstrap, vats: resolved };
}

export async function launchTestCluster(
  vats: TestVats,
  options: {
    bootstrap?: string;
    tamper?: Tamper;
    reapInterval?: number;
    /** KernelOptions.reapWhenIdle (default true). */
    reapWhenIdle?: boolean;
    /** KernelOptions.reapIdleAfter (default 100). */
    reapIdleAfter?: number;
    /** Where vats run; worker threads by default (see fixtures/in-process-vats.ts). */
    launcher?: VatLauncher;
    deliveryTimeoutMs?: number;
    maxHostRestarts?: number;
  } = {},
): Promise<TestCluster> {
  const cranks: CrankRecord[] = [];
  const commits: RowChange[][] = [];
  const base = options.launcher ?? makeNodeVatLauncher();
  const launcher = options.tamper ? tamperingLauncher(base, options.tamper) : base;
  const host = await makeNodeKernel({
    launcher,
    onCrank: (r) => cranks.push(r),
    ...(options.reapInterval ? { reapInterval: options.reapInterval } : {}),
    ...(options.reapWhenIdle === undefined ? {} : { reapWhenIdle: options.reapWhenIdle }),
    ...(options.reapIdleAfter ? { reapIdleAfter: options.reapIdleAfter } : {}),
    ...(options.deliveryTimeoutMs
      ? { deliveryTimeoutMs: options.deliveryTimeoutMs }
      : {}),
    ...(options.maxHostRestarts ? { maxHostRestarts: options.maxHostRestarts } : {}),
    onCommit: (changes) => {
      if (changes.length) commits.push(changes);
    },
  });
  const bootstrap = options.bootstrap ?? Object.keys(vats)[0] ?? '';
  const { kernel, store } = host;
  const { result } = await kernel.launchCluster(await resolveCluster(vats, bootstrap));
  const bootstrapResult = await result;
  await kernel.whenIdle();
  const targetOf = (target: string): KRef =>
    /^k[op]\d+$/u.test(target) ? target : kernel.rootOf(target);
  const send = async (target: string, method: string, ...args: unknown[]) => {
    const settlement = await kernel.queueMessage(targetOf(target), method, args);
    await kernel.whenIdle();
    return settlement;
  };
  return {
    kernel,
    store,
    cranks,
    commits,
    bootstrapResult,
    send,
    async call(target, method, ...args) {
      const s = await send(target, method, ...args);
      const value = capdataToJson(s.data);
      if (s.rejected) throw new Error(`rejected: ${JSON.stringify(value)}`);
      return value;
    },
    vatId(name) {
      const vat = kernel.state.getVatByName(name);
      if (!vat) throw new Error(`no vat ${name}`);
      return vat.vatId;
    },
    close: () => host.close(),
  };
}

export interface AppendGate {
  storage: DurableStorage;
  /** Holds every append from now on, until open(). */
  close(): void;
  /** Lets held appends, and later ones, through. */
  open(): void;
  /** Resolves once an append is held at the closed gate. */
  held(): Promise<void>;
}

/**
 * Wraps a storage so its log appends can be held at a gate (the rest passes straight
 * through); `onAppended` is called each time an append has become durable.
 */
export function gateAppends(
  storage: DurableStorage,
  onAppended: () => void = () => undefined,
): AppendGate {
  const waiting: Array<() => void> = [];
  const heldWaiters: Array<() => void> = [];
  let isOpen = true;
  return {
    storage: {
      ...storage,
      async appendLog(bytes) {
        if (!isOpen) {
          const passed = new Promise<void>((resolve) => waiting.push(resolve));
          for (const notify of heldWaiters.splice(0)) notify();
          await passed;
        }
        await storage.appendLog(bytes);
        onAppended();
      },
    },
    close() {
      isOpen = false;
    },
    open() {
      isOpen = true;
      for (const release of waiting.splice(0)) release();
    },
    held() {
      return new Promise<void>((resolve) => {
        if (waiting.length > 0) resolve();
        else heldWaiters.push(resolve);
      });
    },
  };
}
