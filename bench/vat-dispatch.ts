/**
 * The vat side of a delivery, without the kernel: the same supervisor and the same
 * `ping` deliveries, run in this thread and through each Node vat transport, and a bare
 * worker echo as the floor a thread boundary costs. Prints a table and one JSON line.
 *
 *   npm run bench -- vat-dispatch [--count 5000] [--runs 5]
 */
import { Worker } from 'node:worker_threads';
import type { VatChannel } from '../kernel/platform/index.ts';
import {
  parseVatToKernel,
  type Deliver,
  type KernelToVat,
  type VatToKernel,
} from '../kernel/protocol/index.ts';
import { bundleVatSource } from '../node/bundles/index.ts';
import {
  makeNodeSupervisorPlatform,
  makeNodeVatLauncher,
} from '../node/vat-worker/index.ts';
import { makeVatSupervisor } from '../vat-supervisor/index.ts';
import { median, option, repoPath } from './stats.ts';

const count = Number(option('--count', '5000'));
const runs = Number(option('--runs', '5'));
const bundle = await bundleVatSource(repoPath('bench/vats/ponger.js'));

type Request = (message: KernelToVat) => Promise<VatToKernel>;

function inProcess(): { request: Request; close(): Promise<void> } {
  let reply: unknown;
  const supervisor = makeVatSupervisor({
    post: (message) => {
      reply = message;
    },
    platform: makeNodeSupervisorPlatform(),
  });
  return {
    async request(message) {
      await supervisor.handle(message);
      return parseVatToKernel(reply);
    },
    async close() {},
  };
}

function overChannel(channel: VatChannel): { request: Request; close(): Promise<void> } {
  let waiter: ((message: unknown) => void) | undefined;
  channel.onMessage((message) => waiter?.(message));
  channel.onExit((reason) => {
    throw Error(reason);
  });
  return {
    request: (message) =>
      new Promise((resolveReply) => {
        waiter = (raw) => resolveReply(parseVatToKernel(raw));
        channel.send(message);
      }),
    close: () => channel.close(),
  };
}

const ping = (crank: number): Deliver => ({
  type: 'deliver',
  crank,
  delivery: {
    kind: 'message',
    target: 'o+0',
    methargs: { body: `#["ping",[${crank}]]`, slots: [] },
    result: `p-${crank}`,
  },
});

interface Subject {
  request: Request;
  close(): Promise<void>;
}

/** Starts the vat, warms it up, and returns a function that times `count` deliveries. */
async function prepare(vat: Subject): Promise<() => Promise<number>> {
  const ready = await vat.request({
    type: 'initVat',
    protocolVersion: 1,
    vatId: 'v1',
    incarnation: 0,
    bundle,
    globals: [],
    state: [],
  });
  if (ready.type !== 'vatReady') throw Error(JSON.stringify(ready));
  let crank = 1;
  await vat.request({
    type: 'deliver',
    crank: crank++,
    delivery: { kind: 'startVat', parameters: { body: '#{}', slots: [] } },
  });
  const run = async (n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const reply = await vat.request(ping(crank++));
      if (reply.type !== 'delivered') throw Error(JSON.stringify(reply));
    }
    return ((performance.now() - t0) * 1000) / n;
  };
  await run(Math.min(count, 2000));
  return () => run(count);
}

/** A worker that posts back whatever it gets: what the thread boundary alone costs. */
async function echo(): Promise<Subject> {
  const worker = new Worker(
    "const { parentPort } = require('node:worker_threads'); parentPort.on('message', (m) => parentPort.postMessage(m));",
    { eval: true },
  );
  let waiter: ((message: unknown) => void) | undefined;
  worker.on('message', (message) => waiter?.(message));
  const reply: VatToKernel = {
    type: 'delivered',
    crank: 1,
    outcome: 'ok',
    syscalls: [
      {
        kind: 'resolve',
        resolutions: [{ vpid: 'p-1', rejected: false, data: { body: '#1', slots: [] } }],
      },
    ],
    delta: { sets: [], deletes: [] },
  };
  const ready: VatToKernel = {
    type: 'vatReady',
    protocolVersion: 1,
    vatId: 'v1',
    outcome: 'ok',
  };
  return {
    // The echo answers a deliver with a reply-sized message, as a vat would.
    request: (message) =>
      new Promise((resolveReply) => {
        const answer = message.type === 'deliver' ? reply : ready;
        waiter = () => resolveReply(answer);
        worker.postMessage(answer);
      }),
    close: () => worker.terminate().then(() => undefined),
  };
}

const subjects: [string, () => Promise<Subject>][] = [
  ['in process', async () => inProcess()],
  [
    'worker, postMessage',
    async () =>
      overChannel(await makeNodeVatLauncher({ transport: 'message' }).launch('v1')),
  ],
  [
    'worker, shared memory',
    async () =>
      overChannel(await makeNodeVatLauncher({ transport: 'shared' }).launch('v1')),
  ],
  ['bare worker echo (postMessage)', echo],
];

// All subjects stay up and take turns, so that a change in the machine's load (it is
// shared) affects each of them alike.
const prepared: { name: string; vat: Subject; run: () => Promise<number> }[] = [];
for (const [name, make] of subjects) {
  const vat = await make();
  prepared.push({ name, vat, run: await prepare(vat) });
}
const rows: [string, number[]][] = prepared.map(({ name }) => [name, []]);
for (let r = 0; r < runs; r++) {
  for (const [i, { run }] of prepared.entries()) rows[i]?.[1].push(await run());
}
for (const { vat } of prepared) await vat.close();

console.log(
  `µs per delivery round trip, ${count} deliveries x ${runs} runs (median, min, max)`,
);
for (const [name, times] of rows) {
  console.log(
    `${name.padEnd(34)} ${median(times).toFixed(1).padStart(7)} ${Math.min(...times)
      .toFixed(1)
      .padStart(7)} ${Math.max(...times)
      .toFixed(1)
      .padStart(7)}`,
  );
}
console.log(
  JSON.stringify({
    bench: 'vat-dispatch',
    count,
    runs,
    microsecondsPerDelivery: Object.fromEntries(
      rows.map(([name, times]) => [name, Number(median(times).toFixed(1))]),
    ),
  }),
);
