/**
 * A property test of the promise "nothing acknowledged is ever lost": fast-check drives a
 * kernel with real files through random sequences of increments (one at a time, or
 * several at once so that commits group), vat faults (a host lost a few times, more times
 * than the kernel retries, a protocol violation), storage faults (ENOSPC, EIO, a short
 * write, a failed sync, a crash before, during or after a storage step) and restarts,
 * against a model that counts what each vat acknowledged. After every restart the state
 * that survives must be a prefix of what was issued that holds every acknowledged
 * increment, and the kernel must go on from there.
 *
 * Vats run in this thread (fixtures/in-process-vats.ts): real liveslots, no workers.
 * CASK_PROPERTY_RUNS sets the number of runs (default 25); a failure prints its seed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import initSqlJs, { type SqlJsStatic } from 'sql.js';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  capdataToJson,
  makeKernel,
  recoverStore,
  type Durability,
  type Kernel,
  type KernelStore,
  type ResolvedCluster,
} from '../kernel/index.ts';
import { openFileStorage } from '../node/file-storage/index.ts';
import {
  faultyStorage,
  type FaultKind,
  type FaultPlan,
} from './fixtures/faulty-storage.ts';
import {
  makeInProcessLauncher,
  type InProcessLauncher,
} from './fixtures/in-process-vats.ts';
import {
  replyEdits,
  resolveCluster,
  sampleVat,
  tamperingLauncher,
  tamperNextReply,
} from './kernel-harness.ts';

const VATS = ['a', 'b'] as const;
type VatName = (typeof VATS)[number];

type Op =
  | { op: 'inc'; vat: VatName; n: number }
  | { op: 'lose'; vat: VatName; times: number }
  | { op: 'violate'; vat: VatName }
  | { op: 'storage'; kind: FaultKind }
  | { op: 'restart' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('inc' as const),
      vat: fc.constantFrom(...VATS),
      n: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('lose' as const),
      vat: fc.constantFrom(...VATS),
      times: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('violate' as const),
      vat: fc.constantFrom(...VATS),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('storage' as const),
      kind: fc.constantFrom<FaultKind>(
        'enospc',
        'eio',
        'short',
        'unsynced',
        'crash-before',
        'crash-during',
        'crash-after',
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'restart' as const }) },
);

let SQL: SqlJsStatic;
let cluster: ResolvedCluster;
beforeAll(async () => {
  SQL = await initSqlJs();
  cluster = await resolveCluster(
    { a: { source: sampleVat('counter.js') }, b: { source: sampleVat('counter.js') } },
    'a',
  );
});

/** One life of the kernel: from opening the directory until a fault or a restart ends it. */
interface Life {
  kernel: Kernel;
  store: KernelStore;
  durability: Durability;
  launcher: InProcessLauncher;
  plan: FaultPlan;
  armViolation: () => void;
  ops: () => number;
}

async function open(dir: string, isNew: boolean): Promise<Life> {
  const plan: FaultPlan = { at: Number.POSITIVE_INFINITY, kind: 'enospc' };
  const storage = faultyStorage(await openFileStorage(dir), plan);
  const { store, durability } = await recoverStore(SQL, storage, {
    checkpointMinBytes: 8_000,
    checkpointRatio: 0,
    closeCheckpointMinBytes: Number.POSITIVE_INFINITY,
  });
  const launcher = makeInProcessLauncher();
  const violation = tamperNextReply(replyEdits.bogusResolve);
  const kernel = makeKernel({
    checkState: process.env['CASK_CHECK_STATE'] === '1',
    store,
    platform: {
      vats: tamperingLauncher(launcher, violation.tamper),
      now: () => performance.now(),
    },
    commitLog: durability,
    maxHostRestarts: 3,
    onStop: () => undefined,
  });
  if (isNew) await (await kernel.launchCluster(cluster)).result;
  else await kernel.resume();
  await kernel.whenIdle();
  return {
    kernel,
    store,
    durability,
    launcher,
    plan,
    armViolation: violation.arm,
    ops: () => storage.ops.length,
  };
}

/** Ends a life as a crash would: nothing more is written; what was durable stays. */
async function end(life: Life, clean: boolean): Promise<void> {
  if (clean) {
    await life.kernel.shutdown();
    await life.durability.close().catch(() => undefined);
  } else {
    // Let go of the files (the OS would), without writing anything more.
    life.plan.at = life.ops() + 1;
    life.plan.kind = 'crash-before';
    await life.kernel.shutdown().catch(() => undefined);
    await life.durability.close().catch(() => undefined);
  }
  life.store.close();
}

async function count(kernel: Kernel, vat: VatName): Promise<number> {
  const s = await kernel.queueMessage(kernel.rootOf(vat), 'getCount', []);
  return capdataToJson(s.data) as number;
}

async function runScenario(ops: Op[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cask-property-'));
  try {
    const acked: Record<VatName, number> = { a: 0, b: 0 };
    const issued: Record<VatName, number> = { a: 0, b: 0 };
    let life = await open(dir, true);
    const restartLife = async (clean: boolean) => {
      await end(life, clean);
      life = await open(dir, false);
      // Suspended vats are restarted by hand, as a person would.
      for (const vat of life.kernel.state.listVats()) {
        if (vat.state === 'suspended') await life.kernel.restartVat(vat.vatId);
      }
      await life.kernel.whenIdle();
      for (const vat of VATS) {
        const n = await count(life.kernel, vat);
        // A prefix of what was issued, holding everything acknowledged.
        expect(n, `vat ${vat} after a restart`).toBeGreaterThanOrEqual(acked[vat]);
        expect(n, `vat ${vat} after a restart`).toBeLessThanOrEqual(issued[vat]);
        acked[vat] = n;
        issued[vat] = n;
      }
    };
    for (const step of ops) {
      const { kernel } = life;
      switch (step.op) {
        case 'inc': {
          let answered = 0;
          let refused = false;
          for (let i = 0; i < step.n; i += 1) {
            kernel.queueMessage(kernel.rootOf(step.vat), 'increment', []).then(
              (s) => {
                if (!s.rejected) answered += 1;
              },
              () => {
                refused = true;
              },
            );
          }
          issued[step.vat] += step.n;
          // Until nothing can run (a message held for a suspended vat waits), then until
          // every result released has reached us.
          await kernel.whenIdle().catch(() => undefined);
          await new Promise<void>((resolve) => setImmediate(resolve));
          acked[step.vat] += answered;
          if (refused || kernel.status().suspended > 0) await restartLife(false);
          break;
        }
        case 'lose':
          life.launcher.loseOnDeliveries(
            life.kernel.state.getVatByName(step.vat)?.vatId ?? '',
            step.times,
          );
          break;
        case 'violate':
          life.armViolation();
          break;
        case 'storage':
          life.plan.at = life.ops() + 1;
          life.plan.kind = step.kind;
          break;
        case 'restart':
          await restartLife(true);
          break;
      }
    }
    await restartLife(false);
    await end(life, true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('what survives faults', () => {
  it('is always a prefix that holds every acknowledged increment', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 3, maxLength: 14 }), runScenario),
      { numRuns: Number(process.env.CASK_PROPERTY_RUNS ?? 25), endOnFailure: true },
    );
  }, 300_000);
});
