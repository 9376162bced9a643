/**
 * Where a crank's time goes in the extension (dist/, Debian's Chromium, headless,
 * through e2e/harness.ts): bench/extension-ping-pong.ts's ping-pong, taken apart.
 *
 * Per run, on one browser:
 *
 * - cranks/s of `pinger.run(ponger, rounds)` (as extension-ping-pong measures it);
 * - the service worker's log writes: readwrite IndexedDB transactions per crank and how
 *   long each took from `transaction()` to `complete` (IDBDatabase.prototype.transaction
 *   wrapped in the worker over the DevTools protocol, for this bench only), and records
 *   per crank (Δ durability.lastSeq);
 * - the messages on the vats' ports per crank, both ways, and their sizes (JSON length);
 * - a second, profiled run: the DevTools CPU profiler (Profiler domain, 100 µs sampling)
 *   on the service worker and both vat workers at once; busy time (every sample but
 *   `(idle)`) per crank, and in the worker its split (sql.js, GC, the rest);
 * - echo round trips from the service worker, each over a MessageChannel of its own
 *   whose other end is in: the service worker itself (the floor of a postMessage), the
 *   offscreen document, a dedicated worker of the offscreen document (extension origin:
 *   measured, not a place for vats, see docs/extension.md), a vat iframe's main thread
 *   and a vat's own worker (opaque origin, where vats run). The message is a delivery of
 *   the run above, as an object and as its JSON string; one echo at a time, median µs.
 *
 * Prints a table (medians over runs) and one JSON line.
 *
 *   npm run bench -- extension-hop [--rounds 500] [--runs 3] [--echoes 500]
 *
 * Needs the built extension (`npm run build`); runs on a copy of dist/ that adds one
 * file, the offscreen document's echo worker (the extension's CSP allows no blob
 * worker there). bench/run.js runs it from source under tsx without lockdown.
 */
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleForExtension } from './fixtures.ts';
import { median, option, repoPath } from './stats.ts';

const rounds = Number(option('--rounds', '500'));
const runs = Number(option('--runs', '3'));
const echoes = Number(option('--echoes', '500'));
const WARM_UP = 200;
/** Bench messages between the pages and the worker (their echo ports). */
const HOP = 'cask-bench:hop';
const ECHO_WORKER = 'hop-echo-worker.js';

if (!existsSync(repoPath('dist/manifest.json'))) {
  process.stderr.write(
    'extension-hop needs the built extension: dist/manifest.json is missing; run `npm run build` first\n',
  );
  process.exit(1);
}

interface Session {
  call(method: string, params?: object): Promise<Record<string, unknown>>;
  detach(): Promise<void>;
}
interface Evaluator {
  evaluate<R>(expression: string): Promise<R>;
}
interface CaskDriver {
  worker: Evaluator;
  ask<R = unknown>(method: string, params?: unknown): Promise<R>;
  serviceWorkerTarget(): Promise<Session>;
  vatTarget(vatId: string, which: 'iframe' | 'worker'): Promise<Session>;
  offscreenTarget(): Promise<Session>;
  dispose(): Promise<void>;
  readonly profile: string;
}
// Loaded at run time, as in extension-ping-pong.ts (the harness uses `chrome` types).
const { Cask } = (await import(pathToFileURL(repoPath('e2e/harness.ts')).href)) as {
  Cask: { launch(options?: { dist?: string }): Promise<CaskDriver> };
};

interface Status {
  crank: number;
  durability: { lastSeq: number };
}
interface Settled {
  result: { status: 'fulfilled' | 'rejected'; value: unknown };
}
interface VatInfo {
  name: string;
  vatId: string;
  state: string;
  rootKref: string;
}

/** What the worker's instrumentation counted since its last reset. */
interface Counts {
  writes: number;
  writeMs: number[];
  toVat: number;
  toVatChars: number;
  fromVat: number;
  fromVatChars: number;
  delivery: unknown;
}

/**
 * The worker's instrumentation, installed over the DevTools protocol (JavaScript source:
 * the bench's program has no DOM types, and the worker has no helpers of tsx's).
 * `__caskHop` counts the vats' messages and the readwrite IndexedDB transactions, keeps
 * a delivery for the echoes, and holds the echo ports the pages send (`HOP` messages).
 */
const INSTRUMENT = `(() => {
  if (globalThis.__caskHop) return;
  const counts = { writes: 0, writeMs: [], toVat: 0, toVatChars: 0, fromVat: 0, fromVatChars: 0, delivery: undefined };
  const ports = {};
  const watched = new WeakSet();
  const echoPorts = new WeakSet();
  const size = (data) => (typeof data === 'string' ? data.length : (JSON.stringify(data) || '').length);
  const post = MessagePort.prototype.postMessage;
  MessagePort.prototype.postMessage = function (...args) {
    const data = args[0];
    const type = data && data.type;
    if (!echoPorts.has(this) && (type === 'deliver' || type === 'initVat')) {
      counts.toVat += 1;
      if (counts.toVat <= 50) counts.toVatChars += size(data);
      if (type === 'deliver' && data.delivery && data.delivery.kind === 'message') counts.delivery = data;
      if (!watched.has(this)) {
        watched.add(this);
        this.addEventListener('message', (event) => {
          counts.fromVat += 1;
          if (counts.fromVat <= 50) counts.fromVatChars += size(event.data);
        });
      }
    }
    return post.apply(this, args);
  };
  const transaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (...args) {
    const tx = transaction.apply(this, args);
    if (args[1] === 'readwrite') {
      const t0 = performance.now();
      tx.addEventListener('complete', () => {
        counts.writes += 1;
        counts.writeMs.push(performance.now() - t0);
      });
    }
    return tx;
  };
  addEventListener('message', (event) => {
    const data = event.data;
    const port = event.ports[0];
    if (!data || data.type !== '${HOP}' || typeof data.name !== 'string' || !port) return;
    echoPorts.add(port);
    ports[data.name] = port;
  });
  // One in the worker itself: both ends here.
  const local = new MessageChannel();
  local.port2.onmessage = (event) => local.port2.postMessage(event.data);
  echoPorts.add(local.port1);
  echoPorts.add(local.port2);
  ports['service worker (same thread)'] = local.port1;
  globalThis.__caskHop = {
    counts,
    ports,
    reset() {
      Object.assign(counts, { writes: 0, writeMs: [], toVat: 0, toVatChars: 0, fromVat: 0, fromVatChars: 0 });
    },
  };
})()`;

/**
 * In the worker: `n` echoes over each port, one at a time, timed in blocks of 25 (a
 * service worker's clock moves in 100 µs steps): µs per echo of each block, by port.
 * Then posting alone: `n` posts back to back, µs per post.
 */
const echoAll = (n: number, asString: boolean) => `(async () => {
  const BLOCK = 25;
  const hop = globalThis.__caskHop;
  const message = ${asString} ? JSON.stringify(hop.counts.delivery) : hop.counts.delivery;
  const out = {};
  for (const [name, port] of Object.entries(hop.ports)) {
    const times = [];
    let answer = () => undefined;
    port.onmessage = () => answer();
    const once = () => new Promise((resolve) => {
      answer = resolve;
      port.postMessage(message);
    });
    for (let i = 0; i < 50; i += 1) await once();
    for (let i = 0; i < ${n}; i += BLOCK) {
      const t0 = performance.now();
      for (let j = 0; j < BLOCK; j += 1) await once();
      times.push(((performance.now() - t0) * 1000) / BLOCK);
    }
    let echoed = 0;
    const all = new Promise((resolve) => {
      port.onmessage = () => {
        echoed += 1;
        if (echoed === ${n}) resolve();
      };
    });
    const t0 = performance.now();
    for (let i = 0; i < ${n}; i += 1) port.postMessage(message);
    const post = ((performance.now() - t0) * 1000) / ${n};
    await all;
    out[name] = { echo: times, post };
  }
  return out;
})()`;

/** What echoAll answers: µs per echo of each block, and per post, by port. */
type Echoes = Record<string, { echo: number[]; post: number }>;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

interface Busy {
  /** µs of every sample but (idle). */
  busy: number;
  /** µs in sql.js (its wasm and its JS glue), in GC. */
  sql: number;
  gc: number;
  /** Inclusive µs by function name (each name once per sample). */
  inclusive: Map<string, number>;
  /** Self µs by function name. */
  self: Map<string, number>;
}

function analyse(profile: Profile): Busy {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const out: Busy = { busy: 0, sql: 0, gc: 0, inclusive: new Map(), self: new Map() };
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    const { functionName, url } = node.callFrame;
    if (functionName === '(idle)') return;
    out.busy += dt;
    if (functionName === '(garbage collector)') out.gc += dt;
    const names = new Set<string>();
    let inSql = false;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame) break;
      if (frame.url.startsWith('wasm://') || frame.url.includes('sql-wasm')) inSql = true;
      names.add(frame.functionName || '(anonymous)');
    }
    if (inSql || url.startsWith('wasm://')) out.sql += dt;
    const self = inSql ? '(sql.js)' : functionName || '(anonymous)';
    out.self.set(self, (out.self.get(self) ?? 0) + dt);
    for (const name of names)
      out.inclusive.set(name, (out.inclusive.get(name) ?? 0) + dt);
  });
  return out;
}

async function startProfile(session: Session): Promise<void> {
  await session.call('Profiler.enable');
  await session.call('Profiler.setSamplingInterval', { interval: 100 });
  await session.call('Profiler.start');
}

let profilesSaved = 0;

async function stopProfile(session: Session): Promise<Busy> {
  const { profile } = (await session.call('Profiler.stop')) as { profile: Profile };
  await session.call('Profiler.disable');
  // For DevTools' Performance panel or a script of your own.
  const dir = process.env.HOP_PROFILE_DIR;
  if (dir) {
    profilesSaved += 1;
    writeFileSync(join(dir, `hop-${profilesSaved}.cpuprofile`), JSON.stringify(profile));
  }
  return analyse(profile);
}

/** Sets up the echo ends in the pages, each sending its port to the worker. */
async function openEchoPorts(cask: CaskDriver, vatId: string): Promise<void> {
  const evaluate = (session: Session, expression: string) =>
    session.call('Runtime.evaluate', { expression, awaitPromise: true });
  const echoEnd = `const ch = new MessageChannel();
    ch.port1.onmessage = (e) => ch.port1.postMessage(e.data);`;
  const offscreen = await cask.offscreenTarget();
  try {
    await evaluate(
      offscreen,
      `(async () => {
        const sw = (await navigator.serviceWorker.ready).active;
        const toWorker = (name, port) => sw.postMessage({ type: '${HOP}', name }, [port]);
        window.addEventListener('message', (e) => {
          if (e.data && e.data.type === '${HOP}') toWorker(e.data.name, e.ports[0]);
        });
        { ${echoEnd} toWorker('offscreen document', ch.port2); }
        const worker = new Worker('${ECHO_WORKER}');
        const ch = new MessageChannel();
        worker.postMessage(null, [ch.port1]);
        toWorker('worker of the offscreen document', ch.port2);
      })()`,
    );
  } finally {
    await offscreen.detach();
  }
  const iframe = await cask.vatTarget(vatId, 'iframe');
  try {
    // The iframe's workers: forwards what the vat's worker sends up.
    const proto = (await iframe.call('Runtime.evaluate', {
      expression: 'Worker.prototype',
    })) as { result: { objectId: string } };
    const workers = (await iframe.call('Runtime.queryObjects', {
      prototypeObjectId: proto.result.objectId,
    })) as { objects: { objectId: string } };
    await iframe.call('Runtime.callFunctionOn', {
      objectId: workers.objects.objectId,
      functionDeclaration: `function () {
        for (const w of this) w.addEventListener('message', (e) => {
          if (e.data && e.data.type === '${HOP}') window.parent.postMessage(e.data, '*', [...e.ports]);
        });
      }`,
    });
    await evaluate(
      iframe,
      `{ ${echoEnd} window.parent.postMessage({ type: '${HOP}', name: 'vat iframe (main thread)' }, '*', [ch.port2]); }`,
    );
  } finally {
    await iframe.detach();
  }
  const vatWorker = await cask.vatTarget(vatId, 'worker');
  try {
    await evaluate(
      vatWorker,
      `{ ${echoEnd} self.postMessage({ type: '${HOP}', name: 'vat worker' }, [ch.port2]); }`,
    );
  } finally {
    await vatWorker.detach();
  }
}

/** One thread's scheduler account (/proc/PID/task/TID/schedstat): ns on a CPU, ns waiting for one, slices. */
interface ThreadStat {
  process: string;
  thread: string;
  run: number;
  wait: number;
  slices: number;
}

const readText = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/**
 * Every thread of the browser on `profile`, by "pid/tid", with the kind of its process:
 * the browser, the extension's renderer (the service worker, the offscreen document and
 * the panel), the vat iframes' renderer, a utility or GPU process.
 */
function threads(profile: string): Map<string, ThreadStat> {
  const out = new Map<string, ThreadStat>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/u.test(d))) {
    // Chromium rewrites its children's command lines into one string (spaces, no NULs).
    const cmdline = readText(`/proc/${pid}/cmdline`) ?? '';
    if (!cmdline.includes(profile)) continue;
    const type = /--type=([a-z-]+)/u.exec(cmdline)?.[1] ?? 'browser';
    const tids = readdirSync(`/proc/${pid}/task`);
    const comms = tids.map(
      (tid) => readText(`/proc/${pid}/task/${tid}/comm`)?.trim() ?? '',
    );
    let process = type;
    if (type === 'renderer') {
      if (comms.includes('ServiceWorker t')) process = 'extension renderer';
      else if (comms.includes('DedicatedWorker')) process = 'vat renderer';
      else process = 'other renderer';
    }
    tids.forEach((tid, i) => {
      const [run = 0, wait = 0, slices = 0] = (
        readText(`/proc/${pid}/task/${tid}/schedstat`) ?? ''
      )
        .trim()
        .split(' ')
        .map(Number);
      out.set(`${pid}/${tid}`, { process, thread: comms[i] ?? '', run, wait, slices });
    });
  }
  return out;
}

/** µs of CPU per crank between two snapshots, by process kind and for the key threads. */
function cpuPerCrank(
  before: Map<string, ThreadStat>,
  after: Map<string, ThreadStat>,
  cranks: number,
): Record<string, number> {
  const sums: Record<string, number> = {};
  const add = (key: string, ns: number) => {
    sums[key] = (sums[key] ?? 0) + ns / 1000 / cranks;
  };
  for (const [id, a] of after) {
    const b = before.get(id);
    const run = a.run - (b?.run ?? 0);
    add(a.process, run);
    add(`${a.process} / ${a.thread}`, run);
    add('all of the browser', run);
    if (a.thread === 'ServiceWorker t') {
      add('service worker thread', run);
      add('service worker: waiting for a CPU', a.wait - (b?.wait ?? 0));
      sums['service worker: slices per crank'] =
        (sums['service worker: slices per crank'] ?? 0) +
        (a.slices - (b?.slices ?? 0)) / cranks;
    }
    if (a.process === 'vat renderer' && a.thread === 'DedicatedWorker') {
      add('vat workers', run);
      add('vat workers: waiting for a CPU', a.wait - (b?.wait ?? 0));
    }
  }
  return sums;
}

const CPU_ROWS = [
  'all of the browser',
  'browser',
  'extension renderer',
  'service worker thread',
  'service worker: waiting for a CPU',
  'service worker: slices per crank',
  'vat renderer',
  'vat workers',
  'vat workers: waiting for a CPU',
  'utility',
  'gpu-process',
  'other renderer',
];

const PATHS = [
  'service worker (same thread)',
  'offscreen document',
  'worker of the offscreen document',
  'vat iframe (main thread)',
  'vat worker',
];

interface RunResult {
  /** µs per crank of CPU time (schedstat), by process and thread; see CPU_ROWS. */
  cpu: Record<string, number>;
  rate: number;
  cranks: number;
  recordsPerCrank: number;
  writesPerCrank: number;
  writeMs: number;
  toVatPerCrank: number;
  fromVatPerCrank: number;
  toVatChars: number;
  fromVatChars: number;
  profiledRate: number;
  swBusyUs: number;
  swSqlUs: number;
  swGcUs: number;
  vatBusyUs: number;
  swTop: Array<[string, number]>;
  echoObject: Record<string, { echo: number; post: number }>;
  echoString: Record<string, { echo: number; post: number }>;
  swSelf: Array<[string, number]>;
  vatTop: Array<[string, number]>;
  vatSelf: Array<[string, number]>;
}

async function measure(
  bundles: Record<string, unknown>,
  dist: string,
  times: number,
): Promise<RunResult[]> {
  const cask = await Cask.launch({ dist });
  try {
    await cask.ask('whenIdle');
    const vat = (name: string) => ({
      bundle: bundles[name],
      parameters: { writeBytes: 0 },
    });
    await cask.ask('launchCluster', {
      config: {
        bootstrap: 'pinger',
        vats: { pinger: vat('pinger'), ponger: vat('ponger') },
      },
    });
    await cask.ask('whenIdle');
    const vats = await cask.ask<VatInfo[]>('listVats');
    const find = (name: string) => {
      const v = vats.find((x) => x.name === name && x.state === 'running');
      if (!v) throw new Error(`no running ${name} vat after launchCluster`);
      return v;
    };
    const pinger = find('pinger');
    const ponger = find('ponger');
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
    await cask.worker.evaluate(INSTRUMENT);
    await run(WARM_UP);
    await cask.ask('whenIdle');
    await openEchoPorts(cask, ponger.vatId);

    const results: RunResult[] = [];
    for (let r = 0; r < times; r += 1) {
      await cask.ask('whenIdle');
      await cask.worker.evaluate<unknown>('globalThis.__caskHop.reset()');
      const before = await cask.ask<Status>('status');
      const threadsBefore = threads(cask.profile);
      const t0 = performance.now();
      await run(rounds);
      const seconds = (performance.now() - t0) / 1000;
      const threadsAfter = threads(cask.profile);
      const after = await cask.ask<Status>('status');
      const counts = await cask.worker.evaluate<Counts>('globalThis.__caskHop.counts');
      const cranks = after.crank - before.crank;

      // The same run again, profiled: the worker and both vat workers.
      await cask.ask('whenIdle');
      const sessions = [
        await cask.serviceWorkerTarget(),
        await cask.vatTarget(pinger.vatId, 'worker'),
        await cask.vatTarget(ponger.vatId, 'worker'),
      ];
      let profiles: Busy[];
      let profiledSeconds: number;
      try {
        for (const s of sessions) await startProfile(s);
        const p0 = performance.now();
        await run(rounds);
        profiledSeconds = (performance.now() - p0) / 1000;
        profiles = [];
        for (const s of sessions) profiles.push(await stopProfile(s));
      } finally {
        for (const s of sessions) await s.detach();
      }
      const [sw, ping, pong] = profiles as [Busy, Busy, Busy];
      const perCrank = (us: number) => us / cranks;
      const top = (...maps: Array<Map<string, number>>): Array<[string, number]> => {
        const sum = new Map<string, number>();
        for (const m of maps) for (const [k, v] of m) sum.set(k, (sum.get(k) ?? 0) + v);
        return [...sum.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 25)
          .map(([name, us]) => [name, perCrank(us)]);
      };

      const toMedians = (times: Echoes) =>
        Object.fromEntries(
          Object.entries(times).map(([k, v]) => [
            k,
            { echo: median(v.echo), post: v.post },
          ]),
        );
      await cask.ask('whenIdle');
      const echoObject = toMedians(
        await cask.worker.evaluate<Echoes>(echoAll(echoes, false)),
      );
      const echoString = toMedians(
        await cask.worker.evaluate<Echoes>(echoAll(echoes, true)),
      );
      results.push({
        cpu: cpuPerCrank(threadsBefore, threadsAfter, cranks),
        rate: cranks / seconds,
        cranks,
        recordsPerCrank: (after.durability.lastSeq - before.durability.lastSeq) / cranks,
        writesPerCrank: counts.writes / cranks,
        writeMs: median(counts.writeMs),
        toVatPerCrank: counts.toVat / cranks,
        fromVatPerCrank: counts.fromVat / cranks,
        toVatChars: counts.toVatChars / Math.min(50, Math.max(1, counts.toVat)),
        fromVatChars: counts.fromVatChars / Math.min(50, Math.max(1, counts.fromVat)),
        profiledRate: cranks / profiledSeconds,
        swBusyUs: perCrank(sw.busy),
        swSqlUs: perCrank(sw.sql),
        swGcUs: perCrank(sw.gc),
        // Each crank runs in one of the two vats: their busy time added up, per crank.
        vatBusyUs: perCrank(ping.busy + pong.busy),
        swTop: [...sw.inclusive.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 25)
          .map(([name, us]) => [name, perCrank(us)]),
        echoObject,
        echoString,
        vatTop: top(ping.inclusive, pong.inclusive),
        vatSelf: top(ping.self, pong.self),
        swSelf: [...sw.self.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 25)
          .map(([name, us]) => [name, perCrank(us)]),
      });
    }
    return results;
  } finally {
    await cask.dispose();
  }
}

const { pinger, ponger } = bundleForExtension([
  repoPath('bench/vats/pinger.js'),
  repoPath('bench/vats/ponger.js'),
]);

/** Builds to compare (`--dists A,B`: built extensions), taking turns run by run. */
const builds = option('--dists', repoPath('dist')).split(',');
const byBuild = new Map<string, RunResult[]>(builds.map((b) => [b, []]));
for (let r = 0; r < runs; r += 1) {
  for (const build of builds) {
    // A copy, with the offscreen document's echo worker added.
    const dist = mkdtempSync(join(tmpdir(), 'cask-hop-dist-'));
    try {
      cpSync(build, dist, { recursive: true });
      writeFileSync(
        join(dist, ECHO_WORKER),
        'onmessage = (first) => { const port = first.ports[0]; port.onmessage = (e) => port.postMessage(e.data); };\n',
      );
      byBuild.get(build)?.push(...(await measure({ pinger, ponger }, dist, 1)));
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  }
}

function report(results: RunResult[], build: string): Record<string, unknown> {
  const med = (pick: (r: RunResult) => number) => median(results.map(pick));
  const line = (label: string, value: number, digits: number, unit: string) =>
    console.log(`${label.padEnd(58)} ${value.toFixed(digits).padStart(9)} ${unit}`);
  console.log(
    `${build}: extension, Chromium headless: ping-pong ${rounds} round trips, ${runs} runs (medians)`,
  );
  line(
    'cranks/s',
    med((r) => r.rate),
    0,
    '',
  );
  line(
    'cranks/s while profiled',
    med((r) => r.profiledRate),
    0,
    '',
  );
  line('µs per crank (1e6 / cranks/s)', 1e6 / med((r) => r.rate), 0, 'µs');
  if (process.env.HOP_THREADS) {
    for (const [k, v] of Object.entries(results.at(-1)?.cpu ?? {}).sort(
      (a, b) => b[1] - a[1],
    )) {
      if (k.includes(' / ') && v > 10)
        console.log(`  ${k.padEnd(56)} ${v.toFixed(0).padStart(9)}`);
    }
  }
  console.log("CPU per crank, µs (schedstat of the browser's threads, unprofiled run)");
  for (const row of CPU_ROWS) {
    line(
      `  ${row}`,
      med((r) => r.cpu[row] ?? 0),
      row.includes('slices') ? 2 : 0,
      '',
    );
  }
  line(
    'service worker busy per crank (profiled)',
    med((r) => r.swBusyUs),
    0,
    'µs',
  );
  line(
    '  of it sql.js',
    med((r) => r.swSqlUs),
    0,
    'µs',
  );
  line(
    '  of it GC',
    med((r) => r.swGcUs),
    0,
    'µs',
  );
  line(
    'vat workers busy per crank (profiled)',
    med((r) => r.vatBusyUs),
    0,
    'µs',
  );
  line(
    'log records per crank',
    med((r) => r.recordsPerCrank),
    3,
    '',
  );
  line(
    'IndexedDB readwrite transactions per crank',
    med((r) => r.writesPerCrank),
    3,
    '',
  );
  line(
    'IndexedDB transaction, created to complete',
    med((r) => r.writeMs),
    2,
    'ms',
  );
  line(
    'messages to the vat per crank',
    med((r) => r.toVatPerCrank),
    2,
    '',
  );
  line(
    'messages from the vat per crank',
    med((r) => r.fromVatPerCrank),
    2,
    '',
  );
  line(
    '  characters (JSON) to / from',
    med((r) => r.toVatChars),
    0,
    '',
  );
  line(
    '',
    med((r) => r.fromVatChars),
    0,
    '',
  );
  console.log(
    `from the service worker, µs: an echo's round trip (median of blocks of 25, ${echoes} in all) and a post alone`,
  );
  console.log(
    `${'to'.padEnd(40)} ${'object'.padStart(9)} ${'string'.padStart(9)} ${'post obj'.padStart(9)} ${'post str'.padStart(9)}`,
  );
  const echo: Record<string, Record<string, number>> = {};
  for (const path of PATHS) {
    const e = {
      object: med((r) => r.echoObject[path]?.echo ?? NaN),
      string: med((r) => r.echoString[path]?.echo ?? NaN),
      postObject: med((r) => r.echoObject[path]?.post ?? NaN),
      postString: med((r) => r.echoString[path]?.post ?? NaN),
    };
    echo[path] = Object.fromEntries(
      Object.entries(e).map(([k, v]) => [k, Math.round(v)]),
    );
    console.log(
      `${path.padEnd(40)} ${[e.object, e.string, e.postObject, e.postString].map((v) => v.toFixed(0).padStart(9)).join(' ')}`,
    );
  }
  const last = results.at(-1);
  if (process.env.HOP_THREADS) {
    console.log(
      'vat workers, µs per crank by function (profiled; last run): inclusive | self',
    );
    for (let i = 0; i < 25; i += 1) {
      const [a, au] = last?.vatTop[i] ?? ['', 0];
      const [b, bu] = last?.vatSelf[i] ?? ['', 0];
      console.log(
        `  ${a.slice(0, 34).padEnd(34)} ${au.toFixed(0).padStart(6)} | ${b.slice(0, 34).padEnd(34)} ${bu.toFixed(0).padStart(6)}`,
      );
    }
  }
  console.log(
    'service worker, µs per crank by function (profiled; last run): inclusive | self',
  );
  for (let i = 0; i < 25; i += 1) {
    const [a, au] = last?.swTop[i] ?? ['', 0];
    const [b, bu] = last?.swSelf[i] ?? ['', 0];
    console.log(
      `  ${a.slice(0, 34).padEnd(34)} ${au.toFixed(0).padStart(6)} | ${b.slice(0, 34).padEnd(34)} ${bu.toFixed(0).padStart(6)}`,
    );
  }

  return {
    cranksPerSecond: Math.round(med((r) => r.rate)),
    cpuUsPerCrank: Object.fromEntries(
      CPU_ROWS.map((row) => [
        row,
        Number(med((r) => r.cpu[row] ?? 0).toFixed(row.includes('slices') ? 2 : 0)),
      ]),
    ),
    swBusyUsPerCrank: Math.round(med((r) => r.swBusyUs)),
    swSqlUsPerCrank: Math.round(med((r) => r.swSqlUs)),
    vatBusyUsPerCrank: Math.round(med((r) => r.vatBusyUs)),
    logRecordsPerCrank: Number(med((r) => r.recordsPerCrank).toFixed(3)),
    idbWritesPerCrank: Number(med((r) => r.writesPerCrank).toFixed(3)),
    idbWriteMs: Number(med((r) => r.writeMs).toFixed(2)),
    messagesPerCrank: {
      toVat: Number(med((r) => r.toVatPerCrank).toFixed(2)),
      fromVat: Number(med((r) => r.fromVatPerCrank).toFixed(2)),
    },
    echoUs: echo,
  };
}

const reports = builds.map((build) => ({
  dist: build,
  ...report(byBuild.get(build) ?? [], build),
}));
const header = { bench: 'extension-hop', host: 'extension', rounds, runs };
if (reports.length === 1) {
  const { dist: _dist, ...only } = reports[0] as Record<string, unknown>;
  console.log(JSON.stringify({ ...header, ...only }));
} else {
  console.log('cranks/s by build, run by run');
  for (const build of builds) {
    const rates = (byBuild.get(build) ?? []).map((r) => r.rate.toFixed(0));
    console.log(`  ${build.padEnd(40)} ${rates.join(' ')}`);
  }
  console.log(JSON.stringify({ ...header, builds: reports }));
}
