/**
 * Memory per stored byte in the Node host: a vat whose durable MapStore holds 10k / 100k
 * entries (100-byte values, one vatstore key each) is resumed from its data directory in
 * a fresh child process and answers one delivery; the process's memory is measured
 * before the kernel opens and after that answer, each after a full GC in both threads
 * that can run one. A vatstore is kept in the kernel's sql.js database (the `external`
 * column: the wasm heap) and, sent whole by `initVat`, in the vat's cache too (most of the
 * worker's part of `rss`); a vatstore of more than 5,000 keys starts paged by default and
 * the vat holds only what it read (docs/store.md "Paged vatstores"). Each size is measured
 * both ways, alternating: by default, and with the whole vatstore sent (`rssWhole`).
 * Prints a table and one JSON line.
 *
 *   npm run bench -- memory [--sizes 10000,100000] [--runs 3]
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleVatSource } from '../node/bundles/index.ts';
import { makeNodeKernel } from '../node/host/index.ts';
import { launchFilledVat } from './fixtures.ts';
import { median, option, repoPath } from './stats.ts';

const child = process.argv.indexOf('--child');

interface Sample {
  rss: number;
  heapUsed: number;
  external: number;
  storedBytes: number;
  keys: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** In the child: the memory a resumed kernel with that data directory takes. */
async function measureHere(dataDir: string, whole: boolean): Promise<Sample> {
  const settle = () => {
    gc?.();
    gc?.();
  };
  settle();
  const before = process.memoryUsage();
  // A bringOutYourDead after every delivery: the vat's worker collects its garbage too
  // (what initVat's parse left) before the measurement.
  const host = await makeNodeKernel({
    dataDir,
    reapInterval: 1,
    ...(whole ? { pagedVatstoreAbove: Infinity } : {}),
  });
  await host.kernel.resume();
  const filler = host.kernel.rootOf('filler');
  await host.kernel.queueMessage(filler, 'size', []);
  await host.kernel.whenIdle();
  const vatId = host.kernel.state.getVatByName('filler')?.vatId ?? '';
  settle();
  const after = process.memoryUsage();
  const { keys, bytes } = host.kernel.state.vatstoreStats(vatId);
  await host.close();
  return {
    rss: after.rss - before.rss,
    heapUsed: after.heapUsed - before.heapUsed,
    external: after.external - before.external,
    storedBytes: bytes,
    keys,
  };
}

async function fill(n: number): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cask-bench-memory-'));
  const host = await makeNodeKernel({ dataDir });
  const bundle = await bundleVatSource(repoPath('bench/vats/filler.js'));
  await launchFilledVat(host.kernel, bundle, n);
  await host.close();
  return dataDir;
}

if (child >= 0) {
  const sample = await measureHere(
    process.argv[child + 1] as string,
    process.argv.includes('--whole'),
  );
  process.stdout.write(`${JSON.stringify(sample)}\n`);
} else {
  const sizes = option('--sizes', '10000,100000').split(',').map(Number);
  const runs = Number(option('--runs', '3'));
  const rows: Array<{ n: number; rssWhole: number } & Sample> = [];
  const measure = (dataDir: string, whole: boolean): Sample => {
    const out = execFileSync(
      process.execPath,
      [
        '--expose-gc',
        repoPath('build/bench/entry.js'),
        repoPath('build/bench/memory.js'),
        '--child',
        dataDir,
        ...(whole ? ['--whole'] : []),
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    return JSON.parse(out.trim().split('\n').at(-1) as string) as Sample;
  };
  for (const n of sizes) {
    const dataDir = await fill(n);
    const samples: Sample[] = [];
    const wholeSamples: Sample[] = [];
    for (let r = 0; r < runs; r += 1) {
      for (const whole of r % 2 === 0 ? [false, true] : [true, false]) {
        (whole ? wholeSamples : samples).push(measure(dataDir, whole));
      }
    }
    await rm(dataDir, { recursive: true, force: true });
    const mid = (pick: (s: Sample) => number) => median(samples.map(pick));
    rows.push({
      n,
      rss: mid((s) => s.rss),
      heapUsed: mid((s) => s.heapUsed),
      external: mid((s) => s.external),
      storedBytes: mid((s) => s.storedBytes),
      keys: mid((s) => s.keys),
      rssWhole: median(wholeSamples.map((s) => s.rss)),
    });
  }
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1).padStart(7);
  const per = (bytes: number, stored: number) => (bytes / stored).toFixed(1).padStart(6);
  console.log(
    `memory of a resumed kernel and its vat (Node host), median of ${runs} fresh processes`,
  );
  console.log(
    'entries   keys     stored MB   rss MB  ×stored   main heap MB  ×   external MB  ×   rss MB sent whole  ×',
  );
  for (const r of rows) {
    console.log(
      `${String(r.n).padEnd(9)} ${String(r.keys).padEnd(8)} ${mb(r.storedBytes)}   ${mb(r.rss)} ${per(r.rss, r.storedBytes)}   ${mb(r.heapUsed)} ${per(r.heapUsed, r.storedBytes)}   ${mb(r.external)} ${per(r.external, r.storedBytes)}   ${mb(r.rssWhole)}          ${per(r.rssWhole, r.storedBytes)}`,
    );
  }
  console.log(JSON.stringify({ bench: 'memory', host: 'node', runs, rows }));
}
