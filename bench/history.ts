/**
 * History costs (docs/history.md), in one run, for vatstores of 10k and 100k keys of
 * 100-byte values, each commit one crank changing one key:
 *  (a) restore time at depths 10, 100, 1,000 and 10,000 commits back: the state after
 *      that commit rebuilt off to the side (the newest checkpoint at or before it, then
 *      the log up to it) and exported as the image a restore installs;
 *  (b) beside it, replaying from the start of history (the checkpoint taken right after
 *      the store was filled) to the same commit: what a log without checkpoints costs;
 *  (c) the space history takes against the live store (the newest checkpoint), and one
 *      whole restore installed (checkpoint written, record appended).
 *
 *   npm run bench -- history [--sizes 10000,100000] [--depths 10,100,1000,10000]
 *                            [--interval-kib 256] [--runs 3] [--quick]
 * --quick: depths up to 1,000 (2,000 commits) and one run: for a busy 2-core machine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import initSqlJs from 'sql.js';
import {
  History,
  recoverStore,
  restoreImage,
  type DurableStorage,
  type KernelStore,
} from '../kernel/index.ts';
import { openFileStorage } from '../node/file-storage/index.ts';
import { median, option } from './stats.ts';

const quick = process.argv.includes('--quick');
const sizes = option('--sizes', '10000,100000').split(',').map(Number);
const depths = option('--depths', quick ? '10,100,1000' : '10,100,1000,10000')
  .split(',')
  .map(Number);
const intervalBytes = Number(option('--interval-kib', '256')) * 1024;
const runs = Number(option('--runs', quick ? '1' : '3'));
const commits = Math.max(...depths) + 10;
const SQL = await initSqlJs();
const value = (i: number, j = 0) => `${i}.${j}`.padEnd(100, 'v');
const key = (i: number) => `k${String(i).padStart(7, '0')}`;

/**
 * The same storage showing only its oldest checkpoint (taken right after the store was
 * filled): what replaying the whole history from its start reads.
 */
function onlyOldestCheckpoint(storage: DurableStorage): DurableStorage {
  return new Proxy(storage, {
    get(target, prop, receiver) {
      if (prop === 'listCheckpoints') {
        return async () => [Math.min(...(await target.listCheckpoints()))];
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function'
        ? (v as (...a: unknown[]) => unknown).bind(target)
        : v;
    },
  });
}

async function timed<T>(op: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await op();
  return { ms: performance.now() - t0, value };
}

async function measure(n: number) {
  const dir = await mkdtemp(join(tmpdir(), 'cask-bench-history-'));
  const storage = await openFileStorage(dir);
  // Every checkpoint kept, so that 10,000 commits back is retained, and so that the
  // replay from the start has the whole log.
  const options = {
    checkpointMinBytes: intervalBytes,
    checkpointRatio: 0,
    retention: { keepCheckpoints: 1_000_000 },
  };
  const { store, durability } = await recoverStore(SQL, storage, options);
  store.beginCrank();
  for (let i = 0; i < n; i += 1) store.put('vatstore', ['v1', key(i), value(i)]);
  store.put('counters', ['crank', 1]);
  store.commitCrank();
  await durability.append(store.takeChanges(), 0, 0);
  const t0 = performance.now();
  for (let j = 1; j <= commits; j += 1) {
    store.beginCrank();
    store.put('vatstore', ['v1', key((j * 7919) % n), value((j * 7919) % n, j)]);
    store.put('counters', ['crank', j + 1]);
    store.commitCrank();
    await durability.append(store.takeChanges(), j, j);
  }
  const writeMs = performance.now() - t0;
  await durability.settled();
  const stats = durability.stats();
  const live = store.export().length;

  // One restore first, unmeasured: the first one also pays for the JIT.
  (await new History(SQL, storage).stateAt(commits - 1)).store.close();
  const restore: Record<number, number> = {};
  const replay: Record<number, number> = {};
  const replayed: Record<number, number> = {};
  for (const depth of depths) {
    const crank = commits - depth;
    const ours: number[] = [];
    const naive: number[] = [];
    for (let r = 0; r < runs; r += 1) {
      const a = await timed(async () => {
        const built = await new History(SQL, storage).stateAt(crank);
        restoreImage(built.store, { labels: [], counters: new Map() }, commits + 1);
        built.store.close();
        return built.replayed;
      });
      ours.push(a.ms);
      replayed[depth] = a.value;
      const b = await timed(async () => {
        const built = await new History(SQL, onlyOldestCheckpoint(storage)).stateAt(
          crank,
        );
        built.store.export();
        built.store.close();
      });
      naive.push(b.ms);
    }
    restore[depth] = median(ours);
    replay[depth] = median(naive);
  }

  const sizes = await storage.sizes();
  // One whole restore, installed: its checkpoint written and its record appended.
  const built = await new History(SQL, storage).stateAt(commits - 100);
  const image = restoreImage(
    built.store,
    { labels: [], counters: new Map() },
    commits + 1,
  );
  built.store.close();
  const install = await timed(() =>
    durability.installRestore(image, commits + 1, { crank: commits - 100, seq: 0 }),
  );
  await durability.close();
  (store as KernelStore).close();
  await rm(dir, { recursive: true, force: true });
  return {
    n,
    live,
    checkpoints: stats.checkpoints,
    writeMs,
    restore,
    replay,
    replayed,
    historyBytes: sizes.logBytes + sizes.checkpointBytes,
    logBytes: sizes.logBytes,
    checkpointBytes: sizes.checkpointBytes,
    installMs: install.ms,
  };
}

const results = [];
for (const n of sizes) results.push(await measure(n));

console.log(
  `history: ${commits} commits of one 100-byte key each, a checkpoint every ${intervalBytes / 1024} KiB of log, median of ${runs} run(s)${quick ? ' (--quick)' : ''}`,
);
console.log(
  '(a, b) ms to rebuild the state N commits back: from the nearest checkpoint (records replayed) | replaying from the start of history',
);
for (const r of results) {
  console.log(
    `  ${r.n} keys (${(r.live / 1e6).toFixed(1)} MB live, ${r.checkpoints} checkpoints):`,
  );
  for (const d of depths) {
    console.log(
      `    depth ${String(d).padStart(6)}: ${r.restore[d]?.toFixed(0).padStart(6)} ms (${r.replayed[d]} replayed) | ${r.replay[d]?.toFixed(0).padStart(6)} ms`,
    );
  }
  console.log(
    `  (c) history ${(r.historyBytes / 1e6).toFixed(1)} MB = ${(r.historyBytes / r.live).toFixed(1)}× live (log ${(r.logBytes / 1e6).toFixed(1)} MB, checkpoints ${(r.checkpointBytes / 1e6).toFixed(1)} MB); installing a restore ${r.installMs.toFixed(0)} ms; writing the ${commits} commits took ${(r.writeMs / 1000).toFixed(1)} s`,
  );
}
console.log(JSON.stringify({ bench: 'history', quick, commits, intervalBytes, results }));
