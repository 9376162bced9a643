/**
 * Durability costs, in one run:
 *  (a) commit cost per crank at vatstores of 1k, 10k and 100k keys of 100-byte values:
 *      our crank log (append one record + fdatasync; the sizes take turns crank by
 *      crank) beside a whole-database export per crank (export + write + fsync), the
 *      approach the log replaces;
 *  (b) resume time: from opening the data directory to the first answered delivery, by
 *      default (a large vatstore starts paged) and with the whole vatstore in initVat;
 *  (c) the longest run-queue pause while a checkpoint is taken, at 100k keys.
 *
 *   npm run bench -- durability [--sizes 1000,10000,100000] [--cranks 200] [--runs 3]
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import initSqlJs from 'sql.js';
import { recoverStore, type KernelStore } from '../kernel/index.ts';
import { bundleVatSource } from '../node/bundles/index.ts';
import { openFileStorage } from '../node/file-storage/index.ts';
import { makeNodeKernel } from '../node/host/index.ts';
import { launchFilledVat } from './fixtures.ts';
import { median, option, repoPath } from './stats.ts';

const sizes = option('--sizes', '1000,10000,100000').split(',').map(Number);
const cranks = Number(option('--cranks', '200'));
const runs = Number(option('--runs', '3'));
const SQL = await initSqlJs();
const value = (i: number) => `${i}`.padEnd(100, 'v');
const key = (i: number) => `k${String(i).padStart(7, '0')}`;

function populate(store: KernelStore, n: number) {
  store.beginCrank();
  for (let i = 0; i < n; i += 1) store.put('vatstore', ['v1', key(i), value(i)]);
  store.commitCrank();
  return store.takeChanges();
}

function oneCrank(store: KernelStore, n: number, j: number) {
  store.beginCrank();
  store.put('vatstore', ['v1', key((j * 7919) % n), value(j)]);
  store.put('counters', ['crank', j]);
  store.commitCrank();
}

/**
 * Commit cost at every size, the sizes' cranks taking turns (crank j at each size, then
 * crank j + 1): the disk's drift (and the writeback of one size's whole-database exports)
 * then falls on every size alike. The exports come after all the log's cranks.
 */
async function commitCosts(ns: number[]) {
  const setups = [];
  for (const n of ns) {
    const dir = await mkdtemp(join(tmpdir(), 'cask-bench-'));
    const storage = await openFileStorage(dir);
    const { store, durability } = await recoverStore(SQL, storage, {
      checkpointMinBytes: Number.MAX_SAFE_INTEGER,
    });
    await durability.append(populate(store, n), 0, 0);
    setups.push({ n, dir, store, durability, log: [] as number[] });
  }
  for (let j = 1; j <= cranks; j += 1) {
    for (const { n, store, durability, log } of setups) {
      oneCrank(store, n, j);
      const t0 = performance.now();
      await durability.append(store.takeChanges(), j, j);
      log.push(performance.now() - t0);
    }
  }
  const out: Record<number, { log: number; export: number; dbBytes: number }> = {};
  for (const { n, dir, store, durability, log } of setups) {
    const exportCost: number[] = [];
    const file = join(dir, 'whole.sqlite');
    const exports = Math.max(5, Math.min(cranks, Math.floor(2e6 / n)));
    for (let j = 1; j <= exports; j += 1) {
      oneCrank(store, n, j);
      const t0 = performance.now();
      store.takeChanges();
      const image = store.export();
      const handle = await open(file, 'w');
      await handle.writeFile(image);
      await handle.sync();
      await handle.close();
      exportCost.push(performance.now() - t0);
    }
    const dbBytes = store.export().length;
    await durability.close();
    store.close();
    await rm(dir, { recursive: true, force: true });
    out[n] = { log: median(log), export: median(exportCost), dbBytes };
  }
  return out;
}

async function resumeTime(n: number) {
  const dataDir = await mkdtemp(join(tmpdir(), 'cask-bench-'));
  const first = await makeNodeKernel({ dataDir });
  const bundle = await bundleVatSource(repoPath('bench/vats/filler.js'));
  const filler = await launchFilledVat(first.kernel, bundle, n);
  const keys = first.kernel.state.vatstoreStats(
    first.kernel.state.getVatByName('filler')?.vatId ?? '',
  ).keys;
  await first.close();
  // The default (a vatstore this large starts paged) and the whole vatstore sent with
  // initVat, alternating, the order swapped each run.
  const times: number[] = [];
  const wholeTimes: number[] = [];
  const once = async (whole: boolean) => {
    const t0 = performance.now();
    const host = await makeNodeKernel({
      dataDir,
      ...(whole ? { pagedVatstoreAbove: Infinity } : {}),
    });
    await host.kernel.resume();
    const s = await host.kernel.queueMessage(filler, 'size', []);
    (whole ? wholeTimes : times).push(performance.now() - t0);
    if (s.rejected) throw new Error('size() was rejected');
    await host.close();
  };
  for (let r = 0; r < runs; r += 1) {
    await once(r % 2 === 1);
    await once(r % 2 === 0);
  }
  await rm(dataDir, { recursive: true, force: true });
  return { ms: median(times), wholeMs: median(wholeTimes), keys };
}

async function checkpointPause(n: number) {
  const dataDir = await mkdtemp(join(tmpdir(), 'cask-bench-'));
  let lastCrankEnd = 0;
  let longestGap = 0;
  let checkpoints = 0;
  const host = await makeNodeKernel({
    dataDir,
    durability: {
      checkpointMinBytes: 256 * 1024,
      checkpointRatio: 0.02,
      onCheckpoint: () => (checkpoints += 1),
    },
    onCrank: () => {
      const now = performance.now();
      if (lastCrankEnd > 0) longestGap = Math.max(longestGap, now - lastCrankEnd);
      lastCrankEnd = now;
    },
  });
  const bundle = await bundleVatSource(repoPath('bench/vats/filler.js'));
  const filler = await launchFilledVat(host.kernel, bundle, n);
  // Steady small cranks from here on; measure the gaps between them.
  await host.kernel.whenIdle();
  const before = checkpoints;
  lastCrankEnd = 0;
  longestGap = 0;
  let baselineGap = 0;
  const inFlight: Array<Promise<unknown>> = [];
  for (let i = 0; checkpoints - before < 2 && i < 20_000; i += 1) {
    inFlight.push(host.kernel.queueMessage(filler, 'touch', [i % n]));
    if (inFlight.length >= 16) await inFlight.shift();
    if (i === 500) baselineGap = longestGap;
  }
  await Promise.all(inFlight);
  const stats = host.durability?.stats();
  await host.close();
  await rm(dataDir, { recursive: true, force: true });
  return {
    checkpoints: checkpoints - before,
    exportPauseMs: stats?.longestCheckpointPauseMs ?? 0,
    longestGapMs: longestGap,
    baselineGapMs: baselineGap,
  };
}

const commit = await commitCosts(sizes);
const resume: Record<number, Awaited<ReturnType<typeof resumeTime>>> = {};
for (const n of sizes) resume[n] = await resumeTime(n);
const pause = await checkpointPause(Math.max(...sizes));

const first = commit[sizes[0] as number];
console.log(`(a) commit cost per crank, median of ${cranks} cranks (ms)`);
console.log('keys      db bytes    crank log   whole-db export   log vs smallest');
for (const n of sizes) {
  const c = commit[n];
  if (!c || !first) continue;
  console.log(
    `${String(n).padEnd(9)} ${String(c.dbBytes).padStart(10)} ${c.log.toFixed(3).padStart(11)} ${c.export.toFixed(3).padStart(17)} ${(c.log / first.log).toFixed(2).padStart(17)}x`,
  );
}
console.log(`(b) resume to first answered delivery, median of ${runs} (ms)`);
for (const n of sizes)
  console.log(
    `${String(n).padEnd(9)} ${resume[n]?.keys} vatstore keys  ${resume[n]?.ms.toFixed(0)} ms (whole vatstore in initVat: ${resume[n]?.wholeMs.toFixed(0)} ms)`,
  );
console.log(
  `(c) checkpoints at ${Math.max(...sizes)} keys: ${pause.checkpoints}; export pause ${pause.exportPauseMs.toFixed(1)} ms; longest gap between cranks ${pause.longestGapMs.toFixed(1)} ms (before any checkpoint: ${pause.baselineGapMs.toFixed(1)} ms)`,
);
console.log(
  JSON.stringify({
    bench: 'durability',
    commitMs: Object.fromEntries(
      sizes.map((n) => [n, { log: commit[n]?.log, export: commit[n]?.export }]),
    ),
    logRatioLargestToSmallest: (commit[Math.max(...sizes)]?.log ?? 0) / (first?.log ?? 1),
    resumeMs: Object.fromEntries(sizes.map((n) => [n, resume[n]?.ms])),
    resumeWholeMs: Object.fromEntries(sizes.map((n) => [n, resume[n]?.wholeMs])),
    checkpoint: pause,
  }),
);
