// The crash test's child for a restore: opens the kernel of a data directory, restores
// it to a crank, and closes; with CASK_KILL_AT=WHEN:KIND:N it SIGKILLs itself right
// before or after the N-th storage step of KIND taken by the restore (steps of opening
// and closing do not count), or once half of that write to a log segment is written
// (torn). Lines: "step KIND N" for each step of the restore, "killing …" just before a
// kill, "restored" and then "done" once closed.
//   node restore.mjs DATA_DIR CRANK
// It runs the compiled build (npm run build), like workload.mjs.
import { writeSync } from 'node:fs';
import '../../build/vat-supervisor/lockdown.js';

const { makeNodeKernel } = await import('../../build/node/host/index.js');
const { stepFileSystem } = await import('./steps.mjs');

const [dataDir, crankText] = process.argv.slice(2);
const say = (line) => writeSync(1, `${line}\n`);
const [when, killKind, killN] = (process.env.CASK_KILL_AT ?? '').split(':');
const die = (n) => {
  say(`killing ${when} ${killKind} ${n}`);
  process.kill(process.pid, 'SIGKILL');
};

let armed = false;
const counts = new Map();
const { fileSystem } = stepFileSystem(dataDir, async (kind, run, tear) => {
  if (!armed) return run();
  const n = (counts.get(kind) ?? 0) + 1;
  counts.set(kind, n);
  const here = kind === killKind && n === Number(killN);
  if (here && when === 'before') die(n);
  if (here && when === 'torn') {
    if (!tear) throw new Error(`CASK_KILL_AT: ${kind} is not a write to a log segment`);
    await tear();
    die(n);
  }
  const result = await run();
  say(`step ${kind} ${n}${tear ? ' tearable' : ''}`);
  if (here && when === 'after') die(n);
  return result;
});

const host = await makeNodeKernel({
  dataDir,
  fileSystem,
  durability: { retention: { keepCheckpoints: 1000 } },
});
armed = true;
await host.restore(Number(crankText));
armed = false;
say('restored');
await host.close();
say('done');
