// The crash test's child: runs adds against a kernel in a data directory and reports on
// stdout each add as it becomes durable, until it reaches its target or is killed.
//   node workload.mjs DATA_DIR TARGET
//   node workload.mjs --stdin   (loads, then waits for one line of JSON on stdin:
//                                { dataDir, target, env }, env holding the CASK_ variables;
//                                so a test can start the next life while one still runs)
// Lines: "state COUNT OK" after recovery, "durable I", "checkpoint SEQ", "closing" when it
// has reached its target and closes, "done COUNT OK" once closed.
// It runs the compiled build (npm run build) so that a restart is fast.
//
// With CASK_STEPS=1 the data directory is reached through ./steps.mjs, and each step of
// the storage (a change to the directory, named by what it does for the log) is reported
// as it completes: "step KIND N" for the N-th step of that kind in this life, "step KIND N
// tearable" for a write to a log segment.
// With CASK_KILL_AT=WHEN:KIND:N steps are reported too, and the process SIGKILLs itself:
//   before:KIND:N  right before the N-th step of KIND;
//   after:KIND:N   right after it;
//   torn:KIND:N    once half of the bytes of that write (to a log segment) are written;
//   quiet:durable:N  once N adds of this life are durable, between steps, when no step is
//                  under way and no temporary file is on disk.
// Just before, it says "killing WHEN KIND N", so that a kill where it was asked can be
// told from any other death (and from a life that never got there).
// With CASK_HOLD_APPENDS=1 a record append that comes while a checkpoint is written waits
// until the checkpoint is in place (to reproduce that order; no test uses it).
// With CASK_TALLY_BUNDLE=FILE the vat's bundle is kept in FILE, made only if it is not
// there: a new kernel then starts in a second less.
import { existsSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import '../../build/vat-supervisor/lockdown.js';

const { makeNodeKernel } = await import('../../build/node/host/index.js');
const { capdataToJson } = await import('../../build/kernel/index.js');
const { bundleVatSource } = await import('../../build/node/bundles/index.js');
const { stepFileSystem } = await import('./steps.mjs');

async function lifeConfig() {
  if (process.argv[2] !== '--stdin') {
    const [dir, targetText] = process.argv.slice(2);
    return { dataDir: dir, target: Number(targetText), env: process.env };
  }
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    process.stdin.destroy();
    return JSON.parse(line);
  }
  process.exit(0); // stdin closed without a life to run: the test is gone
}
const { dataDir, target, env } = await lifeConfig();
// Synchronous, so that every line is out before a SIGKILL.
const say = (line) => writeSync(1, `${line}\n`);

function parseKill(text) {
  if (text === undefined || text === '') return undefined;
  const [when, kind, n] = text.split(':');
  const whens = ['before', 'after', 'torn', 'quiet'];
  if (!whens.includes(when) || !kind || !(Number(n) >= 1))
    throw new Error(`CASK_KILL_AT=${text}: expected ${whens.join('|')}:KIND:N`);
  if (when === 'quiet' && kind !== 'durable')
    throw new Error(`CASK_KILL_AT=${text}: quiet is quiet:durable:N`);
  return { when, kind, n: Number(n) };
}
const kill = parseKill(env.CASK_KILL_AT);

const die = (when, kind, n) => {
  say(`killing ${when} ${kind} ${n}`);
  process.kill(process.pid, 'SIGKILL');
};
let durableCount = 0;
let fileSystem;
// quiet:durable:N: killed once N adds have been reported durable in this life and the
// storage is between steps, with no temporary file on disk: a kill that leaves neither a
// torn write nor a leftover for recovery to clean up.
let maybeQuietKill = () => undefined;
// CASK_HOLD_APPENDS=1: a record append that would be written while a checkpoint is being
// written waits until the checkpoint is in place (its directory synced): an order the
// system may take too, as the two run side by side.
let checkpointWritten;
let releaseAppends = () => undefined;
if (kill || env.CASK_STEPS || env.CASK_HOLD_APPENDS) {
  const counts = new Map();
  let inFlight = 0;
  const steps = stepFileSystem(dataDir, async (kind, run, tear) => {
    if (kind === 'record-append-write' && checkpointWritten) await checkpointWritten;
    const n = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, n);
    const here = kill?.kind === kind && kill.n === n;
    inFlight += 1;
    try {
      if (here && kill.when === 'before') die('before', kind, n);
      if (here && kill.when === 'torn') {
        if (!tear)
          throw new Error(`CASK_KILL_AT: ${kind} is not a write to a log segment`);
        await tear();
        die('torn', kind, n);
      }
      const result = await run();
      say(`step ${kind} ${n}${tear ? ' tearable' : ''}`);
      if (kind === 'checkpoints-dir-sync') releaseAppends();
      if (here && kill.when === 'after') die('after', kind, n);
      return result;
    } finally {
      inFlight -= 1;
      maybeQuietKill();
    }
  });
  fileSystem = steps.fileSystem;
  if (kill?.when === 'quiet') {
    maybeQuietKill = () => {
      if (durableCount >= kill.n && inFlight === 0 && steps.temporaries() === 0)
        die('quiet', 'durable', kill.n);
    };
  }
}

const host = await makeNodeKernel({
  dataDir,
  ...(fileSystem ? { fileSystem } : {}),
  durability: {
    // A checkpoint every few adds (an add's record is under 1 KiB), and one at close.
    checkpointMinBytes: 4 * 1024,
    checkpointRatio: 0.01,
    closeCheckpointMinBytes: 1024,
    onCheckpoint: (seq) => {
      say(`checkpoint ${seq}`);
      if (env.CASK_HOLD_APPENDS) {
        checkpointWritten = new Promise((resolveHold) => {
          releaseAppends = () => {
            checkpointWritten = undefined;
            resolveHold();
          };
        });
      }
    },
  },
});
const { kernel } = host;
async function tallyBundle() {
  const cache = env.CASK_TALLY_BUNDLE;
  if (cache && existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8'));
  const bundle = await bundleVatSource(
    new URL('../vats/tally.js', import.meta.url).pathname,
  );
  if (cache) writeFileSync(cache, JSON.stringify(bundle));
  return bundle;
}
if (host.isNew) {
  const bundle = await tallyBundle();
  const { result } = await kernel.launchCluster({
    bootstrap: 'tally',
    vats: { tally: { bundle, parameters: {}, globals: [] } },
  });
  await result.catch(() => undefined); // tally has no bootstrap method
} else {
  await kernel.resume();
}
await kernel.whenIdle();
const tally = kernel.rootOf('tally');
const call = async (method, ...args) => {
  const s = await kernel.queueMessage(tally, method, args);
  if (s.rejected)
    throw new Error(`${method} rejected: ${JSON.stringify(capdataToJson(s.data))}`);
  return capdataToJson(s.data);
};
const state = await call('check');
say(`state ${state.count} ${state.ok}`);

// Keep several adds in flight, so that cranks outrun storage and commits group.
let next = state.count + 1;
const inFlight = new Set();
while (next <= target || inFlight.size > 0) {
  while (next <= target && inFlight.size < 8) {
    const i = next;
    next += 1;
    const p = call('add', i).then(() => {
      say(`durable ${i}`);
      durableCount += 1;
      maybeQuietKill();
      inFlight.delete(p);
    });
    inFlight.add(p);
  }
  await Promise.race(inFlight);
}
const final = await call('check');
say('closing');
await host.close();
say(`done ${final.count} ${final.ok}`);
