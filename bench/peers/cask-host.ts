/**
 * Cask's host for bench/peers.ts: the Node host (`makeNodeKernel`) over a data directory,
 * vats in worker threads, exactly as `bench/ping-pong.ts` and `bench/durability.ts` use
 * it. The protocol with the driver is described in protocol.js beside this file (which
 * the peers' hosts share; this one speaks it in TypeScript).
 */
import process from 'node:process';
import type * as OneFileHost from '../../node/bundled/index.ts';
import { runWithCodeCache } from '../../node/code-cache/index.ts';
import type { NodeKernel } from '../../node/host/index.ts';
import { repoPath } from '../stats.ts';

// The host as a `cask` process loads it: one file with its code cache, lockdown its
// first module (node/bundled), so that "resume from spawn" is what a user's process pays.
const { bundleVatSource, makeNodeKernel } = runWithCodeCache(
  repoPath('build/node/bundled/cask.bundle.cjs'),
) as unknown as typeof OneFileHost;

const FILL_CHUNK = 10_000;
const VALUE_BYTES = 100;

type Message = { op: 'run'; rounds: number } | { op: 'close' };

function tell(message: object): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) throw new Error('cask-host runs as a child of bench/peers.ts');
    process.send(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });
}

function nextMessage(): Promise<Message> {
  return new Promise((resolve) => process.once('message', (m) => resolve(m as Message)));
}

const vat = async (file: string, parameters: Record<string, unknown>) => ({
  bundle: await bundleVatSource(repoPath(`bench/vats/${file}`)),
  parameters,
  globals: [],
});

function reapInterval(reap: string): { defaultReapInterval?: number | 'never' } {
  if (reap === 'default') return {};
  return { defaultReapInterval: reap === 'never' ? 'never' : Number(reap) };
}

async function call(host: NodeKernel, target: string, method: string, args: unknown[]) {
  const s = await host.kernel.queueMessage(target, method, args);
  if (s.rejected) throw new Error(`${method} was rejected: ${s.data.body}`);
  return JSON.parse(s.data.body.replace(/^#/, '')) as unknown;
}

async function pingpong([dataDir = '', writeBytes = '0', reap = 'never']: string[]) {
  const host = await makeNodeKernel({ dataDir });
  const parameters = { writeBytes: Number(writeBytes) };
  const { result } = await host.kernel.launchCluster({
    bootstrap: 'pinger',
    ...reapInterval(reap),
    vats: {
      pinger: await vat('pinger.js', parameters),
      ponger: await vat('ponger.js', parameters),
    },
  });
  await result; // pinger has no bootstrap method; its rejection is expected
  await host.kernel.whenIdle();
  const pinger = host.kernel.rootOf('pinger');
  const ponger = { $kref: host.kernel.rootOf('ponger') };
  await call(host, pinger, 'run', [ponger, 200]); // warm-up
  await tell({ ready: true });
  for (;;) {
    const message = await nextMessage();
    if (message.op === 'close') break;
    const t0 = performance.now();
    await call(host, pinger, 'run', [ponger, message.rounds]);
    await tell({ ms: performance.now() - t0 });
  }
  await host.close();
}

async function fill([dataDir = '', keys = '0', reap = 'never']: string[]) {
  const host = await makeNodeKernel({ dataDir });
  const { result } = await host.kernel.launchCluster({
    bootstrap: 'filler',
    ...reapInterval(reap),
    vats: { filler: await vat('filler.js', {}) },
  });
  await result;
  const filler = host.kernel.rootOf('filler');
  let size: unknown = 0;
  for (let from = 0; from < Number(keys); from += FILL_CHUNK) {
    const count = Math.min(FILL_CHUNK, Number(keys) - from);
    size = await call(host, filler, 'fill', [from, count, VALUE_BYTES]);
  }
  await host.close();
  await tell({ filled: size });
}

async function resume([dataDir = '']: string[]) {
  const t0 = performance.now();
  const host = await makeNodeKernel({ dataDir });
  await host.kernel.resume();
  const keys = await call(host, host.kernel.rootOf('filler'), 'size', []);
  const answeredAtMs = performance.now();
  await tell({ answeredAtMs, keys, startMs: answeredAtMs - t0 });
  await host.close();
}

const modes: Record<string, (args: string[]) => Promise<void>> = {
  pingpong,
  fill,
  resume,
};
const [mode = '', ...args] = process.argv.slice(2);
try {
  const run = modes[mode];
  if (!run)
    throw new Error(`unknown mode ${mode}; one of ${Object.keys(modes).join(', ')}`);
  await run(args);
  process.disconnect();
  process.exit(0);
} catch (error) {
  // Under SES an error's stack can be '' (errorTaming 'safe'): say the message first.
  const text =
    error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
  await tell({ error: text }).catch(() => {});
  process.exit(1);
}
