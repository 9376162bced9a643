// The crash test's child: runs adds against a kernel in a data directory and reports on
// stdout each add as it becomes durable, until it reaches its target or is killed.
//   node workload.mjs DATA_DIR TARGET
// Lines: "state COUNT OK" after recovery, "durable I", "checkpoint SEQ", "done COUNT OK".
// It runs the compiled build (npm run build) so that a restart is fast.
import '../../build/vat-supervisor/lockdown.js';

const { makeNodeKernel } = await import('../../build/node/host/index.js');
const { capdataToJson } = await import('../../build/kernel/index.js');
const { bundleVatSource } = await import('../../build/node/bundles/index.js');

const [dataDir, targetText] = process.argv.slice(2);
const target = Number(targetText);
const say = (line) => process.stdout.write(`${line}\n`);

const host = await makeNodeKernel({
  dataDir,
  durability: {
    checkpointMinBytes: 48 * 1024,
    checkpointRatio: 0.1,
    onCheckpoint: (seq) => say(`checkpoint ${seq}`),
  },
});
const { kernel } = host;
if (host.isNew) {
  const bundle = await bundleVatSource(
    new URL('../vats/tally.js', import.meta.url).pathname,
  );
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
      inFlight.delete(p);
    });
    inFlight.add(p);
  }
  await Promise.race(inFlight);
}
const final = await call('check');
say(`done ${final.count} ${final.ok}`);
await host.close();
