/**
 * bench/ping-pong side by side for each way the Node host can carry kernel–vat messages
 * (see node/vat-worker), and with the vats in the kernel's own thread as the floor:
 * deliveries per second between two vats, without and with one 100-byte vatstore write
 * per delivery. All kernels stay up and take turns run by run, so that a change in the
 * (shared) machine's load affects each alike. Besides the rate, per delivery: how long
 * the kernel waited for the vat (transport included), the rest of the time, the share
 * of bringOutYourDead cranks (a forced full GC in the vat), and the CPU time of all the
 * process's threads. Prints a table and one JSON line.
 *
 *   npm run bench -- ping-pong-transports [--rounds 2000] [--runs 5] [--reap N|never]
 *     [--reap-idle on|off]
 */
import { bundleVatSource } from '../node/bundles/index.ts';
import { makeNodeKernel } from '../node/host/index.ts';
import type { VatLauncher } from '../kernel/index.ts';
import {
  makeNodeSupervisorPlatform,
  makeNodeVatLauncher,
} from '../node/vat-worker/index.ts';
import { makeVatSupervisor } from '../vat-supervisor/index.ts';
import { median, option, repoPath } from './stats.ts';

const rounds = Number(option('--rounds', '2000'));
const runs = Number(option('--runs', '5'));
/**
 * The kernel's reap policy (docs/gc.md) unless given: deliveries between two reaps (the
 * default 2,000; `never`: not by count), and whether vats are reaped when the kernel is
 * idle (default on). bringOutYourDead forces a full GC in the vat.
 */
const reapOption = option('--reap', '0');
const reapInterval = reapOption === 'never' ? 2 ** 31 - 1 : Number(reapOption);
const reapWhenIdle = option('--reap-idle', 'on') !== 'off';
const transports = ['in-process', 'message', 'shared'] as const;

/**
 * Every vat in the kernel's own thread: no thread boundary and no thread ever sleeping
 * between deliveries, i.e. what the kernel and the vats themselves cost.
 */
function inProcessLauncher(): VatLauncher {
  return {
    async launch() {
      let handler: ((message: unknown) => void) | undefined;
      let exit: ((reason: string) => void) | undefined;
      const supervisor = makeVatSupervisor({
        post: (message) => handler?.(message),
        platform: makeNodeSupervisorPlatform(),
      });
      return {
        send(message) {
          // From a later microtask: a reply must never arrive inside send().
          void Promise.resolve()
            .then(() => supervisor.handle(message))
            .catch((error: unknown) => exit?.(String(error)));
        },
        onMessage(h) {
          handler = h;
        },
        onExit(h) {
          exit = h;
        },
        async close() {},
      };
    },
  };
}

/**
 * Wraps a launcher to add up the time from each `deliver` sent to its reply received:
 * what a crank spends waiting for the vat, transport included.
 */
function timed(inner: VatLauncher) {
  const total = { microseconds: 0, count: 0 };
  const launcher: VatLauncher = {
    async launch(vatId) {
      const channel = await inner.launch(vatId);
      let sentAt: number | undefined;
      return {
        send(message) {
          if (message.type === 'deliver') sentAt = performance.now();
          channel.send(message);
        },
        onMessage(handler) {
          channel.onMessage((message) => {
            if (sentAt !== undefined) {
              total.microseconds += (performance.now() - sentAt) * 1000;
              total.count += 1;
              sentAt = undefined;
            }
            handler(message);
          });
        },
        onExit: (handler) => channel.onExit(handler),
        close: () => channel.close(),
      };
    },
  };
  return { launcher, total };
}

function launcherFor(name: (typeof transports)[number]): VatLauncher {
  return name === 'in-process'
    ? inProcessLauncher()
    : makeNodeVatLauncher({ transport: name });
}

/** A ping-pong cluster, warmed up; returns a function that times one run. */
async function prepare(transport: (typeof transports)[number], writeBytes: number) {
  let deliveries = 0;
  const reap = { count: 0, ms: 0 };
  const { launcher, total } = timed(launcherFor(transport));
  const host = await makeNodeKernel({
    launcher,
    onCrank: (r) => {
      if (r.outcome === 'ok') deliveries += 1;
      if (r.kind === 'bringOutYourDead') {
        reap.count += 1;
        reap.ms += r.durationMs;
      }
    },
    ...(reapInterval ? { reapInterval } : {}),
    reapWhenIdle,
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
  return {
    /**
     * Deliveries per second, µs per delivery spent waiting for the vat, and µs per
     * delivery spent in bringOutYourDead cranks (their forced GC in the vat), and CPU
     * µs per delivery over all threads.
     */
    async run(): Promise<[number, number, number, number]> {
      const before = deliveries;
      total.microseconds = 0;
      total.count = 0;
      reap.ms = 0;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const s = await kernel.queueMessage(pinger, 'run', [ponger, rounds]);
      const seconds = (performance.now() - t0) / 1000;
      if (s.rejected) throw new Error('ping-pong run was rejected');
      const count = deliveries - before;
      const cpu = process.cpuUsage(cpu0);
      return [
        count / seconds,
        total.microseconds / total.count,
        (reap.ms * 1000) / count,
        (cpu.user + cpu.system) / count,
      ];
    },
    close: () => host.close(),
  };
}

const cases: { name: string; key: string; bench: Awaited<ReturnType<typeof prepare>> }[] =
  [];
for (const writeBytes of [0, 100]) {
  for (const transport of transports) {
    cases.push({
      name: `${transport}${writeBytes ? ', 100-byte vatstore write' : ''}`,
      key: `${transport}${writeBytes ? 'Write100' : ''}`,
      bench: await prepare(transport, writeBytes),
    });
  }
}
const rates = cases.map((): number[] => []);
const waits = cases.map((): number[] => []);
const reaps = cases.map((): number[] => []);
const cpus = cases.map((): number[] => []);
for (let r = 0; r < runs; r++) {
  for (const [i, { bench }] of cases.entries()) {
    const [rate, wait, reap, cpu] = await bench.run();
    cpus[i]?.push(cpu);
    rates[i]?.push(rate);
    waits[i]?.push(wait);
    reaps[i]?.push(reap);
  }
}
for (const { bench } of cases) await bench.close();

console.log(
  `deliveries/s, Node host, ${rounds} round trips x ${runs} runs (median, min, max);` +
    ` µs per delivery: waiting for the vat, the rest, of all in bringOutYourDead, CPU (all threads) (median)`,
);
for (const [i, { name }] of cases.entries()) {
  const r = rates[i] ?? [];
  const wait = median(waits[i] ?? []);
  console.log(
    `${name.padEnd(40)} ${median(r).toFixed(0).padStart(7)} ${Math.min(...r)
      .toFixed(0)
      .padStart(7)} ${Math.max(...r)
      .toFixed(0)
      .padStart(7)} ${wait.toFixed(0).padStart(7)} ${(1e6 / median(r) - wait)
      .toFixed(0)
      .padStart(7)} ${median(reaps[i] ?? [])
      .toFixed(0)
      .padStart(7)} ${median(cpus[i] ?? [])
      .toFixed(0)
      .padStart(7)}`,
  );
}
console.log(
  JSON.stringify({
    bench: 'ping-pong-transports',
    host: 'node',
    rounds,
    runs,
    deliveriesPerSecond: Object.fromEntries(
      cases.map(({ key }, i) => [key, Math.round(median(rates[i] ?? []))]),
    ),
    cpuMicroseconds: Object.fromEntries(
      cases.map(({ key }, i) => [key, Math.round(median(cpus[i] ?? []))]),
    ),
    vatWaitMicroseconds: Object.fromEntries(
      cases.map(({ key }, i) => [key, Math.round(median(waits[i] ?? []))]),
    ),
  }),
);
