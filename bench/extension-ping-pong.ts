/**
 * Cranks per second for a ping-pong between two vats inside the extension (dist/, in
 * Debian's Chromium, headless, through e2e/harness.ts), with and without one 100-byte
 * vatstore write per delivery: bench/ping-pong.ts's measurement, across the control
 * surface. Each timed run is one `send pinger.run(ponger, rounds)` request, timed in
 * Node around the request; its cranks are the change of `status.crank` across it.
 * Prints a table and one JSON line.
 *
 *   npm run bench -- extension-ping-pong [--rounds 1000] [--runs 5]
 *
 * Needs the built extension (`npm run build`). bench/run.js runs it from source under
 * tsx and without lockdown (see there).
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { bundleForExtension } from './fixtures.ts';
import { median, option, repoPath } from './stats.ts';

const rounds = Number(option('--rounds', '1000'));
const runs = Number(option('--runs', '5'));
/** Trivial `status` requests timed per browser, for the surface's round trip. */
const PROBES = 30;
const WARM_UP = 200;

if (!existsSync(repoPath('dist/manifest.json'))) {
  process.stderr.write(
    'extension-ping-pong needs the built extension: dist/manifest.json is missing; run `npm run build` first\n',
  );
  process.exit(1);
}

/** What this bench uses of e2e/harness.ts's `Cask`. */
interface CaskDriver {
  ask<R = unknown>(method: string, params?: unknown): Promise<R>;
  dispose(): Promise<void>;
}
// Loaded at run time rather than imported: the harness's page callbacks use the
// `chrome` global, which the programs of tsconfig.json and tsconfig.bench.json (both
// include bench/) do not declare, and importing it would pull it into them.
const { Cask } = (await import(pathToFileURL(repoPath('e2e/harness.ts')).href)) as {
  Cask: { launch(): Promise<CaskDriver> };
};

interface Status {
  crank: number;
}
interface Settled {
  result: { status: 'fulfilled' | 'rejected'; value: unknown };
}
interface VatInfo {
  name: string;
  state: string;
  rootKref: string;
}

/** bench/vats/{pinger,ponger}.js, bundled once by the extension's build step. */
function bundleVats(): Record<'pinger' | 'ponger', unknown> {
  const { pinger, ponger } = bundleForExtension([
    repoPath('bench/vats/pinger.js'),
    repoPath('bench/vats/ponger.js'),
  ]);
  return { pinger, ponger };
}

interface Measured {
  rates: number[];
  /** Δ status.crank of each timed run. */
  cranks: number[];
  /** Milliseconds of each trivial `status` request. */
  roundTrips: number[];
}

async function measure(
  bundles: Record<'pinger' | 'ponger', unknown>,
  writeBytes: number,
): Promise<Measured> {
  const cask = await Cask.launch();
  try {
    await cask.ask('whenIdle'); // the default cluster's bootstrap, on a first run
    const vat = (name: 'pinger' | 'ponger') => ({
      bundle: bundles[name],
      parameters: { writeBytes },
    });
    // pinger has no bootstrap method; the rejected bootstrap result is expected.
    await cask.ask('launchCluster', {
      config: {
        bootstrap: 'pinger',
        vats: { pinger: vat('pinger'), ponger: vat('ponger') },
      },
    });
    await cask.ask('whenIdle');
    const vats = await cask.ask<VatInfo[]>('listVats');
    const ponger = vats.find((v) => v.name === 'ponger' && v.state === 'running');
    if (!ponger) throw new Error('no running ponger vat after launchCluster');
    const run = async (n: number) => {
      const { result } = await cask.ask<Settled>('send', {
        target: { vat: 'pinger' },
        method: 'run',
        args: [{ $kref: ponger.rootKref }, n],
      });
      if (result.status !== 'fulfilled' || result.value !== n) {
        throw new Error(`pinger.run(${n}) answered ${JSON.stringify(result)}`);
      }
    };
    await run(WARM_UP);
    await cask.ask('whenIdle');

    const roundTrips: number[] = [];
    for (let i = 0; i < PROBES; i += 1) {
      const t0 = performance.now();
      await cask.ask<Status>('status');
      roundTrips.push(performance.now() - t0);
    }

    const rates: number[] = [];
    const cranks: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      await cask.ask('whenIdle'); // what the last run left behind is not this run's
      const before = (await cask.ask<Status>('status')).crank;
      const t0 = performance.now();
      await run(rounds);
      const seconds = (performance.now() - t0) / 1000;
      const after = (await cask.ask<Status>('status')).crank;
      cranks.push(after - before);
      rates.push((after - before) / seconds);
    }
    return { rates, cranks, roundTrips };
  } finally {
    await cask.dispose();
  }
}

const bundles = bundleVats();
const plain = await measure(bundles, 0);
const write = await measure(bundles, 100);

const cells = (values: readonly number[], digits: number) =>
  [median(values), Math.min(...values), Math.max(...values)]
    .map((v) => v.toFixed(digits).padStart(7))
    .join(' ');
const rows = [
  ['ping-pong', plain],
  ['ping-pong + 100-byte vatstore write', write],
] as const;
console.log(
  `cranks/s, extension in Chromium (headless), ${rounds} round trips x ${runs} runs (median, min, max)`,
);
for (const [name, m] of rows) console.log(`${name.padEnd(40)} ${cells(m.rates, 0)}`);
console.log(`cranks per run (Δ status.crank)`);
for (const [name, m] of rows) console.log(`${name.padEnd(40)} ${cells(m.cranks, 0)}`);
console.log(`surface round trip, ms: a trivial \`status\` request x ${PROBES}`);
for (const [name, m] of rows) console.log(`${name.padEnd(40)} ${cells(m.roundTrips, 2)}`);
console.log(
  JSON.stringify({
    bench: 'extension-ping-pong',
    host: 'extension',
    rounds,
    runs,
    deliveriesPerSecond: {
      plain: Math.round(median(plain.rates)),
      write100: Math.round(median(write.rates)),
    },
    cranksPerRun: { plain: median(plain.cranks), write100: median(write.cranks) },
    surfaceRoundTripMs: {
      plain: Number(median(plain.roundTrips).toFixed(2)),
      write100: Number(median(write.roundTrips).toFixed(2)),
    },
  }),
);
