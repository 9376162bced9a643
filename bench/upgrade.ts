/**
 * Vat upgrade at scale: time to upgrade a vat whose durable MapStore holds 10k or 100k
 * entries (one vatstore key each, 100-byte values), from the request to the durable
 * outcome, going v1 → v2 → v1 … (every upgrade starts a new worker that loads the whole
 * vatstore and runs buildRootObject against baggage). Beside it, a restart of the same
 * vat (`restartVat`: new worker, same code), which is the floor an upgrade builds on, and
 * the first answer after the upgrade. Real worker threads, real store on disk.
 *
 *   npm run bench -- upgrade [--sizes 10000,100000] [--runs 5]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capdataToJson, type VatBundle } from '../kernel/index.ts';
import { bundleVatSource } from '../node/bundles/index.ts';
import { makeNodeKernel } from '../node/host/index.ts';
import { launchFilledVat } from './fixtures.ts';
import { median, option, repoPath } from './stats.ts';

const sizes = option('--sizes', '10000,100000').split(',').map(Number);
const runs = Number(option('--runs', '5'));

const v1 = await bundleVatSource(repoPath('bench/vats/filler.js'));
const v2 = await bundleVatSource(repoPath('bench/vats/filler-v2.js'));

async function measure(n: number) {
  const dataDir = await mkdtemp(join(tmpdir(), 'cask-bench-'));
  const host = await makeNodeKernel({ dataDir });
  try {
    const { kernel } = host;
    const filler = await launchFilledVat(kernel, v1, n);
    const vatId = kernel.state.getVatByName('filler')?.vatId ?? '';
    const keys = kernel.state.vatstoreStats(vatId).keys;
    const ask = async (method: string) =>
      capdataToJson((await kernel.queueMessage(filler, method, [])).data);
    const upgrades: number[] = [];
    const firstAnswers: number[] = [];
    const restarts: number[] = [];
    for (let r = 0; r < runs; r += 1) {
      const to: VatBundle = r % 2 === 0 ? v2 : v1;
      const t0 = performance.now();
      const outcome = await kernel.upgradeVat(vatId, { bundle: to });
      const t1 = performance.now();
      const version = await ask('version');
      const t2 = performance.now();
      if (version !== (r % 2 === 0 ? 2 : 1) || (await ask('size')) !== n) {
        throw new Error(`upgrade ${outcome.version} did not keep the store`);
      }
      upgrades.push(t1 - t0);
      firstAnswers.push(t2 - t0);
      const t3 = performance.now();
      await kernel.restartVat(vatId);
      restarts.push(performance.now() - t3);
    }
    return {
      keys,
      upgradeMs: median(upgrades),
      toFirstAnswerMs: median(firstAnswers),
      restartMs: median(restarts),
      upgradeRangeMs: [Math.min(...upgrades), Math.max(...upgrades)],
    };
  } finally {
    await host.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const results: Record<number, Awaited<ReturnType<typeof measure>>> = {};
for (const n of sizes) results[n] = await measure(n);
console.log(`ms, median of ${runs} (upgrade: request to durable outcome)`);
console.log('entries   vatstore keys   upgrade   (min–max)     first answer   restart');
for (const [n, r] of Object.entries(results)) {
  console.log(
    `${n.padEnd(9)} ${String(r.keys).padStart(13)} ${r.upgradeMs.toFixed(0).padStart(9)}   (${r.upgradeRangeMs.map((x) => x.toFixed(0)).join('–')})`.padEnd(
      56,
    ) +
      `${r.toFirstAnswerMs.toFixed(0).padStart(10)} ${r.restartMs.toFixed(0).padStart(9)}`,
  );
}
console.log(JSON.stringify({ bench: 'upgrade', runs, results }));
