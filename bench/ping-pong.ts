/**
 * Deliveries per second for a ping-pong between two vats in the Node host, with and
 * without one 100-byte vatstore write per delivery. Each round trip is two deliveries
 * (the ping, and the notify of its answer). Prints a table and one JSON line.
 *
 *   npm run bench -- ping-pong [--rounds 2000] [--runs 5]
 */
import { bundleVatSource } from '../node/bundles/index.ts';
import { makeNodeKernel } from '../node/host/index.ts';
import { median, option, repoPath } from './stats.ts';

const rounds = Number(option('--rounds', '2000'));
const runs = Number(option('--runs', '5'));

async function measure(writeBytes: number): Promise<number[]> {
  let deliveries = 0;
  const host = await makeNodeKernel({
    onCrank: (r) => {
      if (r.outcome === 'ok') deliveries += 1;
    },
  });
  const { kernel } = host;
  const vat = async (file: string) => ({
    bundle: await bundleVatSource(repoPath(`bench/vats/${file}`)),
    parameters: { writeBytes },
    globals: [],
  });
  const { result } = await kernel.launchCluster({
    bootstrap: 'pinger',
    vats: { pinger: await vat('pinger.js'), ponger: await vat('ponger.js') },
  });
  await result; // pinger has no bootstrap method; its rejection is expected
  await kernel.whenIdle();
  const pinger = kernel.rootOf('pinger');
  const ponger = { $kref: kernel.rootOf('ponger') };
  await kernel.queueMessage(pinger, 'run', [ponger, 200]); // warm-up
  const rates: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const before = deliveries;
    const t0 = performance.now();
    const s = await kernel.queueMessage(pinger, 'run', [ponger, rounds]);
    const seconds = (performance.now() - t0) / 1000;
    if (s.rejected) throw new Error('ping-pong run was rejected');
    rates.push((deliveries - before) / seconds);
  }
  await host.close();
  return rates;
}

const plain = await measure(0);
const write = await measure(100);
const rows = [
  ['ping-pong', plain],
  ['ping-pong + 100-byte vatstore write', write],
] as const;
console.log(
  `deliveries/s, Node host, ${rounds} round trips x ${runs} runs (median, min, max)`,
);
for (const [name, rates] of rows) {
  console.log(
    `${name.padEnd(40)} ${median(rates).toFixed(0).padStart(7)} ${Math.min(...rates)
      .toFixed(0)
      .padStart(7)} ${Math.max(...rates)
      .toFixed(0)
      .padStart(7)}`,
  );
}
console.log(
  JSON.stringify({
    bench: 'ping-pong',
    host: 'node',
    rounds,
    runs,
    deliveriesPerSecond: {
      plain: Math.round(median(plain)),
      write100: Math.round(median(write)),
    },
  }),
);
