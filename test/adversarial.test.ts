/**
 * Thousands of malformed and adversarial messages, from a vat and from outside, against
 * a real kernel (its store in memory: durability is not what is attacked here, and a
 * sync per commit would make ten thousand cranks take minutes): the kernel never crashes
 * or hangs, a vat's lie only
 * ever suspends that vat (its stored state untouched), a refused control request
 * changes nothing, and the kernel's tables stay consistent (fixtures/audit.ts).
 *
 * The lying vat is a channel that speaks the wire protocol with generated replies — the
 * system edge a hostile vat controls — beside a real counter vat (liveslots, in this
 * thread). Control requests go through the extension's control surface (its handlers
 * are host-neutral) over the same kernel. CASK_FUZZ_SEED replays a run;
 * CASK_FUZZ_MESSAGES and CASK_FUZZ_REQUESTS set the counts (5,000 of each).
 */
import fc from 'fast-check';
import initSqlJs from 'sql.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KernelStore,
  makeKernel,
  type Durability,
  type Kernel,
  type ResolvedCluster,
  type VatChannel,
  type VatLauncher,
} from '../kernel/index.ts';
import { PROTOCOL_VERSION, type KernelToVat } from '../kernel/protocol/index.ts';
import { handleSurfaceRequest, METHOD_NAMES } from '../extension/surface/index.ts';
import type { SurfaceHooks } from '../extension/surface/index.ts';
import { surfaceHooks } from './fixtures/surface-hooks.ts';
import { auditKernelTables } from './fixtures/audit.ts';
import { makeInProcessLauncher } from './fixtures/in-process-vats.ts';
import { resolveCluster, sampleVat } from './kernel-harness.ts';

const SEED = Number(process.env.CASK_FUZZ_SEED ?? Date.now() % 1_000_000);
const MESSAGES = Number(process.env.CASK_FUZZ_MESSAGES ?? 5_000);
const REQUESTS = Number(process.env.CASK_FUZZ_REQUESTS ?? 5_000);
const LIAR_DEADLINE_MS = 40;

// ---- what a lying vat says ----

/** The references a lying vat might use: its own, the kernel's, and nonsense. */
const vrefArb = fc.oneof(
  fc.constantFrom(
    'o+0',
    'o-1',
    'o-2',
    'p-1',
    'p-2',
    'p+1',
    'p+2',
    'o+1',
    'o+d3/1',
    'o+v4/1',
  ),
  fc.stringMatching(/^[op][+-][0-9a-z/:+-]{0,6}$/u),
  fc.string({ maxLength: 8 }),
);
const capdataArb = fc.record({
  body: fc.oneof(
    fc.constantFrom(
      '#null',
      '#"$0"',
      '#["increment",[]]',
      '#{"a":1}',
      '#',
      '',
      '#"$0.Alleged: x"',
    ),
    fc.string({ maxLength: 40 }),
  ),
  slots: fc.array(vrefArb, { maxLength: 3 }),
});
const vpidArb = fc.oneof(
  fc.constantFrom('p-1', 'p-2', 'p-3', 'p+1', 'p+7'),
  fc.stringMatching(/^p[+-]\d{1,4}$/u),
);
const syscallArb = fc.oneof(
  fc.record({
    kind: fc.constant('send'),
    target: vrefArb,
    methargs: capdataArb,
    result: fc.option(vpidArb, { nil: null }),
  }),
  fc.record({
    kind: fc.constant('resolve'),
    resolutions: fc.array(
      fc.record({ vpid: vpidArb, rejected: fc.boolean(), data: capdataArb }),
      {
        maxLength: 3,
      },
    ),
  }),
  fc.record({ kind: fc.constant('subscribe'), vpid: vpidArb }),
  fc.record({ kind: fc.constant('exit'), failure: fc.boolean(), info: capdataArb }),
  fc.record({
    kind: fc.constantFrom(
      'dropImports',
      'retireImports',
      'retireExports',
      'abandonExports',
    ),
    vrefs: fc.array(vrefArb, { maxLength: 3 }),
  }),
  fc.anything({ maxDepth: 2, maxKeys: 4 }),
);
const deltaArb = fc.record({
  sets: fc.array(
    fc.oneof(
      fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 40 })),
      fc.tuple(fc.string({ maxLength: 5 }), fc.anything({ maxDepth: 2, maxKeys: 4 })),
    ),
    { maxLength: 3 },
  ),
  deletes: fc.array(
    fc.oneof(fc.string({ maxLength: 20 }), fc.anything({ maxDepth: 2, maxKeys: 4 })),
    {
      maxLength: 2,
    },
  ),
});

/** How the lying vat answers one delivery for `crank`. */
type Lie =
  | { kind: 'reply'; message: (crank: number) => unknown }
  | { kind: 'silence' }
  | { kind: 'twice'; message: (crank: number) => unknown };

const lieArb: fc.Arbitrary<Lie> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc
      .record({ syscalls: fc.array(syscallArb, { maxLength: 4 }), delta: deltaArb })
      .map((r): Lie => ({
        kind: 'reply',
        message: (crank) => ({ type: 'delivered', crank, outcome: 'ok', ...r }),
      })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        shift: fc.integer({ min: -3, max: 3 }),
        extra: fc.anything({ maxDepth: 2, maxKeys: 4 }),
      })
      .map(({ shift, extra }): Lie => ({
        kind: 'reply',
        message: (crank) => ({
          type: 'delivered',
          crank: crank + shift,
          outcome: 'ok',
          syscalls: [],
          delta: { sets: [], deletes: [] },
          ...(shift === 0 ? { surprise: extra } : {}),
        }),
      })),
  },
  {
    weight: 2,
    arbitrary: fc.string({ maxLength: 30 }).map((error): Lie => ({
      kind: 'reply',
      message: (crank) => ({
        type: 'deliveryFailed',
        crank,
        outcome: 'error',
        error,
        syscalls: [],
        delta: { sets: [], deletes: [] },
      }),
    })),
  },
  {
    weight: 3,
    arbitrary: fc
      .anything({ maxDepth: 2, maxKeys: 4 })
      .map((junk): Lie => ({ kind: 'reply', message: () => junk })),
  },
  {
    weight: 1,
    arbitrary: fc.constant<Lie>({
      kind: 'twice',
      message: (crank) => ({
        type: 'delivered',
        crank,
        outcome: 'ok',
        syscalls: [],
        delta: { sets: [['k', 'v']], deletes: [] },
      }),
    }),
  },
  { weight: 1, arbitrary: fc.constant<Lie>({ kind: 'silence' }) },
);

/**
 * A launcher whose `liar*` vats answer initVat and startVat properly and every other
 * delivery with the next lie; other vats run in this thread for real.
 */
function lyingLauncher(lies: () => Lie): VatLauncher & { liarIds: Set<string> } {
  const honest = makeInProcessLauncher();
  const liarIds = new Set<string>();
  return {
    liarIds,
    async launch(vatId) {
      if (!liarIds.has(vatId)) return honest.launch(vatId);
      let handler: ((m: unknown) => void) | undefined;
      let closed = false;
      const post = (m: unknown) =>
        queueMicrotask(() => {
          if (!closed) handler?.(m);
        });
      const channel: VatChannel = {
        send(message: KernelToVat) {
          if (message.type === 'initVat') {
            post({
              type: 'vatReady',
              protocolVersion: PROTOCOL_VERSION,
              vatId,
              outcome: 'ok',
            });
            return;
          }
          const { crank, delivery } = message;
          if (delivery.kind === 'startVat' || delivery.kind === 'bringOutYourDead') {
            post({
              type: 'delivered',
              crank,
              outcome: 'ok',
              syscalls: [],
              delta: { sets: [], deletes: [] },
            });
            return;
          }
          const lie = lies();
          if (lie.kind === 'silence') return;
          post(lie.message(crank));
          if (lie.kind === 'twice') post(lie.message(crank));
        },
        onMessage(h) {
          handler = h;
        },
        onExit() {},
        async close() {
          closed = true;
        },
      };
      return channel;
    },
  };
}

// ---- the kernel under attack ----

let store: KernelStore;
let kernel: Kernel;
let launcher: ReturnType<typeof lyingLauncher>;
let cluster: ResolvedCluster;
let commits = 0;
/** Vats whose deltas were committed by a crank since the test last looked. */
const committedDeltas = new Set<string>();
let liars = 0;
const lies = fc.sample(lieArb, { numRuns: MESSAGES, seed: SEED });
let nextLie = 0;

/** `promise`, failing (instead of hanging) past `ms`. */
async function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`seed ${SEED}: the kernel hung after ${what}`)),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Waits until the kernel is idle. */
const settle = (what: string) => within(kernel.whenIdle(), what);

async function newLiar(): Promise<string> {
  liars += 1;
  const name = `liar${liars}`;
  // The next vat id the kernel hands out is the liar's.
  launcher.liarIds.add(`v${kernel.state.peekCounter('vat')}`);
  await within(
    kernel.launchCluster({
      bootstrap: name,
      vats: {
        // The liar ignores its bundle: a tiny one keeps its restarts cheap.
        [name]: {
          bundle: {
            moduleFormat: 'endoZipBase64',
            endoZipBase64: '',
            endoZipBase64Sha512: 'liar',
          },
          parameters: {},
          globals: [],
          deliveryTimeoutMs: LIAR_DEADLINE_MS,
        },
      },
    }),
    `launching ${name}`,
  );
  await settle(`launching ${name}`);
  return name;
}

const vatstoreOf = (vatId: string) =>
  JSON.stringify(
    store.all('SELECT key, value FROM vatstore WHERE vat_id = ? ORDER BY key', [vatId]),
  );

beforeAll(async () => {
  store = KernelStore.open(await initSqlJs());
  launcher = lyingLauncher(() => lies[nextLie++ % lies.length] as Lie);
  kernel = makeKernel({
    checkState: process.env['CASK_CHECK_STATE'] === '1',
    store,
    platform: { vats: launcher, now: () => performance.now() },
    onCommit: () => {
      commits += 1;
    },
    onCrank: (record) => {
      if (record.outcome === 'ok' && record.deltaKeys > 0 && record.vatId) {
        committedDeltas.add(record.vatId);
      }
    },
    onStop: (error) => {
      throw new Error(`seed ${SEED}: the kernel stopped: ${String(error)}`);
    },
  });
  cluster = await resolveCluster(
    { counter: { source: sampleVat('counter.js') } },
    'counter',
  );
  await (
    await kernel.launchCluster(cluster)
  ).result;
  await settle('launching the counter');
});

afterAll(async () => {
  await kernel.shutdown();
  store.close();
});

describe(`a kernel under attack (seed ${SEED})`, () => {
  it(`survives ${MESSAGES} lying replies from a vat: each lie suspends only that vat, its store untouched`, async () => {
    let liar = await newLiar();
    const counter = kernel.rootOf('counter');
    let faults = 0;
    let held = 0;
    // Until every lie was told (a restarted vat is told the held message again: a lie).
    for (let i = 0; nextLie < MESSAGES; i += 1) {
      const vat = kernel.state.getVatByName(liar);
      if (!vat || vat.state === 'terminated') {
        liar = await newLiar();
        continue;
      }
      const before = vatstoreOf(vat.vatId);
      committedDeltas.clear();
      // Sometimes it is handed the counter, so some of its sends are to a real vat.
      const args = i % 3 === 0 ? [{ $kref: counter }, i] : [i];
      void kernel.queueMessage(vat.rootKref, 'poke', args);
      await settle(`lie ${i}`);
      const after = kernel.state.requireVat(vat.vatId);
      expect(
        kernel.state.getVatByName('counter')?.state,
        `seed ${SEED}, lie ${i}: a lie faulted the honest vat it reached`,
      ).toBe('running');
      if (after.state === 'suspended') {
        faults += 1;
        held += kernel.state.heldCount(vat.vatId);
        // Only a valid crank (a true reply before the lie) may have changed it.
        if (!committedDeltas.has(vat.vatId)) {
          expect(
            vatstoreOf(vat.vatId),
            `seed ${SEED}, lie ${i}: a lie reached the store`,
          ).toBe(before);
        }
        // A vat that lies again and again piles up the messages it holds: replace it.
        if (kernel.state.heldCount(vat.vatId) > 8) {
          await kernel.terminateVat(vat.vatId, 'a liar', { deleteState: true });
        } else {
          await kernel.restartVat(vat.vatId).catch(() => undefined);
        }
        await settle(`restarting after lie ${i}`);
      }
      if (i % 500 === 0) {
        expect(auditKernelTables(store), `seed ${SEED}, after lie ${i}`).toEqual([]);
        const s = await within(
          kernel.queueMessage(counter, 'getCount', []),
          `asking the counter after lie ${i}`,
        );
        expect(s.rejected, `seed ${SEED}: the counter stopped answering`).toBe(false);
      }
    }
    expect(auditKernelTables(store), `seed ${SEED}, at the end`).toEqual([]);
    // Most lies are caught; some are lies the kernel accepts as valid (they commit).
    expect(faults).toBeGreaterThan(MESSAGES / 4);
    expect(held).toBeGreaterThan(0);
  }, 600_000);

  it(`refuses ${REQUESTS} malformed or hostile control requests without changing anything`, async () => {
    const hooks: SurfaceHooks = surfaceHooks({
      host: async () => ({
        kernel,
        durability: { stats: () => ({}) } as unknown as Durability,
        recovery: {
          checkpointSeq: 0,
          skippedCheckpoints: [],
          recordsReplayed: 0,
          lastSeq: 0,
          lastCrank: 0,
          fresh: false,
        },
        isNew: false,
        bootedAt: 0,
        bootId: 'fuzz',
        lastCheckpoint: null,
        storeBytes: () => 0,
      }),
      inspector: () =>
        ({ recent: () => [], delta: () => undefined }) as unknown as ReturnType<
          SurfaceHooks['inspector']
        >,
    });
    const krefArb = fc.oneof(
      fc.constantFrom('ko1', 'ko2', 'kp1', 'ko999999', 'kp0', 'k', 'ko-1', 'ko1.5', ''),
      fc.string({ maxLength: 10 }),
    );
    const paramsArb = fc.oneof(
      fc.anything({ maxDepth: 2, maxKeys: 4 }),
      fc.record(
        {
          target: fc.oneof(
            fc.record({ vat: fc.string() }),
            fc.record({ kref: krefArb }),
            fc.anything({ maxDepth: 2, maxKeys: 4 }),
          ),
          method: fc.oneof(fc.string(), fc.anything({ maxDepth: 2, maxKeys: 4 })),
          args: fc.oneof(
            fc.array(fc.jsonValue(), { maxLength: 3 }),
            fc.anything({ maxDepth: 2, maxKeys: 4 }),
          ),
          wait: fc.constantFrom('queued', 'settled', 'x'),
        },
        { requiredKeys: [] },
      ),
      fc.record(
        {
          vatId: fc.oneof(
            fc.constantFrom('v1', 'v2', 'v99', '__proto__', ''),
            fc.string(),
          ),
          reason: fc.anything({ maxDepth: 2, maxKeys: 4 }),
          deleteState: fc.anything({ maxDepth: 2, maxKeys: 4 }),
        },
        { requiredKeys: [] },
      ),
      fc.record(
        {
          kpid: krefArb,
          crank: fc.anything({ maxDepth: 2, maxKeys: 4 }),
          limit: fc.anything({ maxDepth: 2, maxKeys: 4 }),
          prefix: fc.anything({ maxDepth: 2, maxKeys: 4 }),
          sql: fc.oneof(
            fc.constantFrom(
              'SELECT 1',
              'DELETE FROM vats',
              'SELEC 1',
              'ATTACH DATABASE x AS y',
              'PRAGMA writable_schema=1',
            ),
            fc.string(),
          ),
          paused: fc.anything({ maxDepth: 2, maxKeys: 4 }),
          config: fc.anything({ maxDepth: 2, maxKeys: 4 }),
        },
        { requiredKeys: [] },
      ),
    );
    // Requests that change state by design, whatever their params: left out so that a
    // refusal can be told apart from a change the request was meant to make.
    const changing = new Set([
      'setPaused',
      'send',
      'launchCluster',
      'terminateVat',
      'restartVat',
      'upgradeVat',
      'restartKernel',
    ]);
    const requestArb = fc.record({
      method: fc.oneof(
        fc.constantFrom(...METHOD_NAMES),
        fc.string(),
        fc.anything({ maxDepth: 2, maxKeys: 4 }),
      ),
      params: paramsArb,
    });
    const requests = fc.sample(requestArb, { numRuns: REQUESTS, seed: SEED + 1 });
    let refused = 0;
    let settled = true;
    for (const [i, request] of requests.entries()) {
      // Only a request that was accepted can have left work behind.
      if (!settled) await settle(`request ${i - 1}`);
      const commitsBefore = commits;
      const answer = await handleSurfaceRequest(
        { type: 'cask:request', ...request },
        hooks,
      );
      expect(typeof answer.ok, `seed ${SEED}, request ${i}`).toBe('boolean');
      settled = !answer.ok;
      if (!answer.ok) {
        refused += 1;
        expect(answer.error?.message, `seed ${SEED}, request ${i}`).toBeTruthy();
        if (typeof request.method !== 'string' || !changing.has(request.method)) {
          expect(
            commits,
            `seed ${SEED}, request ${i} was refused but changed the store`,
          ).toBe(commitsBefore);
        }
      }
      if (kernel.status().paused) kernel.unpauseRunQueue();
    }
    await settle('the last request');
    expect(refused).toBeGreaterThan(REQUESTS / 2);
    expect(auditKernelTables(store)).toEqual([]);
    // Still answering (the counter itself may have been terminated by a valid request).
    const answer = await handleSurfaceRequest(
      { type: 'cask:request', method: 'listVats', params: {} },
      hooks,
    );
    expect(answer.ok).toBe(true);
  }, 600_000);
});
