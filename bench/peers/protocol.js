// The driver (bench/peers.ts) and each kernel's host (cask-host.ts, ocap-kernel-host.js,
// swingset-host.js) talk over the child process's IPC channel, one JSON message at a
// time. A host is started as `HOST MODE DATADIR [options]`, with MODE one of:
//
//   pingpong DATADIR WRITEBYTES REAP  launch pinger and ponger (bench/vats/) over a store
//                                    in DATADIR, warm up with run(ponger, 200), send
//                                    { ready }; then for each { op: 'run', rounds }
//                                    answer { ms } (request to answer of one
//                                    run(ponger, rounds)); { op: 'close' } ends it.
//   fill DATADIR KEYS REAP           launch filler (bench/vats/filler.js), fill KEYS
//                                    100-byte entries, 10,000 per delivery, stop; send
//                                    { filled: size() }.
//   resume DATADIR                   start the kernel over DATADIR, send size() to
//                                    filler, send { answeredAtMs, keys, startMs }: the
//                                    time since this process's time origin when the
//                                    answer arrived, and the part of it from the
//                                    kernel's start call; then stop.
//
// Any failure is sent as { error } before the host exits with status 1, so the driver
// can print it beside the other kernels' figures.
import process from 'node:process';

/** Sends one message to the driver. */
export function tell(message) {
  return new Promise((resolve, reject) => {
    process.send(message, (error) => (error ? reject(error) : resolve()));
  });
}

/** Waits for the driver's next message. */
export function nextMessage() {
  return new Promise((resolve) => process.once('message', resolve));
}

/**
 * Runs a host: `modes` maps each MODE to `async (args) => void`. Reports a failure to
 * the driver, then exits.
 */
export async function serve(modes) {
  const [mode, ...args] = process.argv.slice(2);
  const run = modes[mode];
  try {
    if (!run) throw new Error(`unknown mode ${mode}; one of ${Object.keys(modes)}`);
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
}

/** Serves `run` requests until `close`: the ping-pong loop every host shares. */
export async function servePingPong(runOnce) {
  await tell({ ready: true });
  for (;;) {
    const message = await nextMessage();
    if (message.op === 'close') return;
    const t0 = performance.now();
    await runOnce(message.rounds);
    await tell({ ms: performance.now() - t0 });
  }
}

export const VATS = new URL('../vats/', import.meta.url);
export const FILL_CHUNK = 10_000;
export const VALUE_BYTES = 100;
