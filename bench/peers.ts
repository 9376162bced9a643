/**
 * Cask beside its two peers, MetaMask's ocap-kernel and Agoric's SwingSet, on the same
 * vats and the same work, in alternating rounds (Cask, ocap-kernel, SwingSet, Cask, …):
 *  (a) ping-pong: deliveries/s of pinger.run(ponger, rounds) (bench/vats/);
 *  (b) the same with one 100-byte vatstore (baggage) write per delivery;
 *  (c) resume: ms from starting a fresh process over a store whose vat holds 10k or
 *      100k durable entries (bench/vats/filler.js) to the vat's first answer.
 * Each kernel runs in its own child process (bench/peers/*-host.*; protocol.js there),
 * so that their SES lockdowns and globals stay apart. The peers are installed into
 * bench/peers/node_modules on first run, at the versions bench/peers/package-lock.json
 * pins; they are never the project's dependencies. Prints a table, the ratios and one
 * JSON line.
 *
 *   npm run bench -- peers [--rounds 1000] [--runs 3] [--sizes 10000,100000]
 *     [--kernels cask,ocap-kernel,swingset] [--reap never|default|N] [--swingset-worker local|xsnap]
 *     [--workloads plain,write,resume] [--resume-runs N (default: --runs)] [--timeout-s 1200]
 */
import { spawnSync } from 'node:child_process';
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { median, option, repoPath } from './stats.ts';

const rounds = Number(option('--rounds', '1000'));
const runs = Number(option('--runs', '3'));
const sizes = option('--sizes', '10000,100000').split(',').map(Number);
const reap = option('--reap', 'never');
/** SwingSet's vat worker: `local` (in its kernel's thread) or `xsnap` (XS, a process each). */
const swingsetWorker = option('--swingset-worker', 'local');
const wanted = option('--kernels', 'cask,ocap-kernel,swingset').split(',');
const workloads = option('--workloads', 'plain,write,resume').split(',');
const resumeRuns = Number(option('--resume-runs', String(runs)));
// The longest a host may take to answer one request (SwingSet's resume at 100k keys
// takes minutes on a loaded machine); past it the host is killed and reported.
const timeoutMs = Number(option('--timeout-s', '1200')) * 1000;

const PEERS = repoPath('bench/peers');

interface Kernel {
  name: string;
  /** The module the child process runs. */
  host: string;
  /** Why it cannot run here, once known. */
  failed?: string;
}

const kernels: Kernel[] = [
  { name: 'cask', host: repoPath('build/bench/peers/cask-host.js') },
  { name: 'ocap-kernel', host: join(PEERS, 'ocap-kernel-host.js') },
  { name: 'swingset', host: join(PEERS, 'swingset-host.js') },
].filter((k) => wanted.includes(k.name));

// ---------------------------------------------------------------- installing the peers

/** `npm …` in bench/peers, its progress on this terminal. */
function npm(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync('npm', [...args, '--prefix', PEERS], { stdio: 'inherit', env });
}

/**
 * Installs the pinned peers unless bench/peers/node_modules already holds exactly what
 * the lock file names; returns why not if it could not.
 */
function installPeers(): string | undefined {
  const lock = readFileSync(join(PEERS, 'package-lock.json'));
  const digest = createHash('sha256').update(lock).digest('hex');
  const stamp = join(PEERS, 'node_modules', '.cask-bench-installed');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return undefined;
  console.log(
    `installing the peers into ${PEERS} (first run, or the lock file changed)…`,
  );
  // Install scripts are skipped: @metamask/streams 0.4.0's postinstall runs
  // `yarn playwright install chromium`, and @agoric/xsnap's builds an XS engine that
  // local vats do not use. The two native modules the peers do use are rebuilt below.
  const ci = npm(['ci', '--ignore-scripts', '--no-audit', '--no-fund']);
  if (ci.status !== 0) {
    const ping = spawnSync(
      'npm',
      ['ping', '--fetch-retries', '0', '--fetch-timeout', '15000'],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    if (ping.status === 0)
      return `npm ci in bench/peers failed (exit ${ci.status}); its output is above`;
    const why =
      `${ping.stderr ?? ''}\n${ping.stdout ?? ''}`
        .split('\n')
        .find((l) => /E[A-Z]{4,}|request to|getaddrinfo|timed? ?out/i.test(l))
        ?.replace(/^npm error\s*/, '') ?? 'no answer within 30 s';
    return `the npm registry is unreachable (npm ping: ${why.trim()}); the peers cannot be installed`;
  }
  // better-sqlite3 (both peers' stores) and microtime (SwingSet's clock) are native.
  // Without a prebuilt binary from GitHub they build with node-gyp, which needs Node's
  // headers: the ones installed beside this node, where there are some.
  const prefix = dirname(dirname(process.execPath));
  const env = existsSync(join(prefix, 'include', 'node', 'node.h'))
    ? { ...process.env, npm_config_nodedir: prefix }
    : process.env;
  console.log("building the peers' native modules (better-sqlite3, microtime)…");
  const rebuild = npm(['rebuild', 'better-sqlite3', 'microtime'], env);
  if (rebuild.status !== 0) {
    return `building better-sqlite3 / microtime in bench/peers failed (exit ${rebuild.status}); its output is above`;
  }
  writeFileSync(stamp, digest);
  return undefined;
}

/** Builds @agoric/xsnap's XS worker (its install script, skipped above), if asked for. */
function buildXsnap(): string | undefined {
  const bin =
    'node_modules/@agoric/xsnap/xsnap-native/xsnap/build/bin/lin/release/xsnap-worker';
  if (existsSync(join(PEERS, bin))) return undefined;
  console.log("building @agoric/xsnap's XS worker for --swingset-worker xsnap…");
  const rebuild = npm(['rebuild', '@agoric/xsnap']);
  return rebuild.status === 0 && existsSync(join(PEERS, bin))
    ? undefined
    : `building @agoric/xsnap failed (exit ${rebuild.status}); its output is above`;
}

function version(pkg: string): string {
  try {
    const file = join(PEERS, 'node_modules', pkg, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

// ---------------------------------------------------------------- talking to a host

interface Reply {
  ready?: boolean;
  ms?: number;
  filled?: number;
  answeredAtMs?: number;
  keys?: number;
  startMs?: number;
  error?: string;
}

/** A kernel's host in its own process, and the next message from it. */
class Host {
  readonly child: ChildProcess;
  readonly startedAt = performance.now();
  #stderr = '';
  #replies: Reply[] = [];
  #waiting: ((r: Reply) => void) | undefined;
  #exited: Promise<number | null>;

  readonly #name: string;

  constructor(kernel: Kernel, args: string[]) {
    this.#name = `${kernel.name} (${args[0]})`;
    this.child = fork(kernel.host, args, {
      cwd: PEERS,
      // Vats log what their bootstrap rejections and the like say; only a failure's
      // stderr is shown.
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4000);
    });
    this.child.on('message', (m: Reply) => this.#deliver(m));
    this.#exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        this.#deliver({
          error: `the host exited (status ${code}) before answering; its stderr ends:\n${this.#stderr}`,
        });
        resolve(code);
      }),
    );
  }

  #deliver(reply: Reply) {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) waiting(reply);
    else this.#replies.push(reply);
  }

  /** The next reply; a reported failure, or none within the deadline, is thrown. */
  async next(): Promise<Reply> {
    let timer: NodeJS.Timeout | undefined;
    const reply =
      this.#replies.shift() ??
      (await new Promise<Reply>((resolve) => {
        this.#waiting = resolve;
        timer = setTimeout(() => {
          this.child.kill('SIGKILL');
          resolve({ error: `${this.#name} gave no answer within ${timeoutMs / 1000} s` });
        }, timeoutMs);
      }));
    clearTimeout(timer);
    if (reply.error !== undefined) throw new Error(reply.error);
    return reply;
  }

  send(message: object) {
    this.child.send(message);
  }

  async exit(): Promise<void> {
    await this.#exited;
  }
}

function firstLine(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).trim();
  return text
    ? text.split('\n').slice(0, 3).join(' / ').slice(0, 400)
    : 'an error without a message';
}

// ---------------------------------------------------------------- the workloads

/** Deliveries/s per kernel for ping-pong with `writeBytes` per delivery. */
async function pingPong(writeBytes: number): Promise<Map<string, number[]>> {
  const hosts = new Map<Kernel, Host>();
  const dirs: string[] = [];
  const rates = new Map<string, number[]>();
  for (const kernel of kernels) {
    if (kernel.failed) continue;
    const dir = await mkdtemp(join(tmpdir(), `peers-${kernel.name}-`));
    dirs.push(dir);
    const host = new Host(kernel, [
      'pingpong',
      dir,
      String(writeBytes),
      reap,
      swingsetWorker,
    ]);
    try {
      await host.next(); // ready: vats up, warmed up
      hosts.set(kernel, host);
      rates.set(kernel.name, []);
    } catch (error) {
      kernel.failed = firstLine(error);
      console.log(`${kernel.name}: ${kernel.failed}`);
    }
  }
  for (let r = 0; r < runs; r += 1) {
    for (const [kernel, host] of hosts) {
      if (kernel.failed) continue;
      try {
        host.send({ op: 'run', rounds });
        const { ms = NaN } = await host.next();
        // Two deliveries per round trip: the ping, and the notify of its answer.
        rates.get(kernel.name)?.push((2 * rounds) / (ms / 1000));
      } catch (error) {
        kernel.failed = firstLine(error);
      }
    }
  }
  for (const host of hosts.values()) {
    host.send({ op: 'close' });
    await host.exit();
  }
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  return rates;
}

interface ResumeTimes {
  /** From spawning the process to the first answer, as the driver saw it. */
  spawn: number[];
  /** From the host's call that starts its kernel to the same answer. */
  kernel: number[];
}

/** ms to the first answer from a fresh process over a store of `keys` entries. */
async function resume(keys: number): Promise<Map<string, ResumeTimes>> {
  const dirs = new Map<Kernel, string>();
  const times = new Map<string, ResumeTimes>();
  for (const kernel of kernels) {
    if (kernel.failed) continue;
    const dir = await mkdtemp(join(tmpdir(), `peers-${kernel.name}-`));
    const host = new Host(kernel, ['fill', dir, String(keys), reap, swingsetWorker]);
    try {
      const { filled } = await host.next();
      if (filled !== keys) throw new Error(`filled ${filled} entries, not ${keys}`);
      await host.exit();
      dirs.set(kernel, dir);
      times.set(kernel.name, { spawn: [], kernel: [] });
    } catch (error) {
      kernel.failed = firstLine(error);
      console.log(`${kernel.name}: ${kernel.failed}`);
      await rm(dir, { recursive: true, force: true });
    }
  }
  // One unmeasured start each first, so every measured start finds the files and the
  // modules in the page cache.
  for (let r = -1; r < resumeRuns; r += 1) {
    for (const [kernel, dir] of dirs) {
      if (kernel.failed) continue;
      const host = new Host(kernel, ['resume', dir]);
      try {
        const answer = await host.next();
        const spawnMs = performance.now() - host.startedAt;
        if (answer.keys !== keys)
          throw new Error(`size() answered ${answer.keys}, not ${keys}`);
        await host.exit();
        if (r >= 0) {
          times.get(kernel.name)?.spawn.push(spawnMs);
          times.get(kernel.name)?.kernel.push(answer.startMs ?? NaN);
        }
      } catch (error) {
        kernel.failed = firstLine(error);
      }
    }
  }
  for (const dir of dirs.values()) await rm(dir, { recursive: true, force: true });
  return times;
}

// ---------------------------------------------------------------- the run

const peersWanted = kernels.some((k) => k.name !== 'cask');
const notInstalled = peersWanted ? installPeers() : undefined;
if (notInstalled) {
  console.log(`${notInstalled}\nmeasuring Cask alone.`);
  for (const k of kernels) if (k.name !== 'cask') k.failed = notInstalled;
}
const swingset = kernels.find((k) => k.name === 'swingset');
if (swingset && !swingset.failed && swingsetWorker === 'xsnap')
  swingset.failed = buildXsnap();
const versions = {
  'ocap-kernel': version('@metamask/ocap-kernel'),
  'kernel-store': version('@metamask/kernel-store'),
  'swingset-vat': version('@agoric/swingset-vat'),
  'swing-store': version('@agoric/swing-store'),
};

const none = new Map<string, number[]>();
const plain = workloads.includes('plain') ? await pingPong(0) : none;
const write = workloads.includes('write') ? await pingPong(100) : none;
const resumes = new Map<number, Map<string, ResumeTimes>>();
if (workloads.includes('resume')) for (const n of sizes) resumes.set(n, await resume(n));

// ---------------------------------------------------------------- the report

const names = kernels.map((k) => k.name);
const cell = (values: number[] | undefined, digits = 0) =>
  values && values.length
    ? `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`
    : '–';
const ratio = (
  a: number[] | undefined,
  b: number[] | undefined,
  higherIsBetter: boolean,
) => {
  if (!a?.length || !b?.length) return '–';
  const r = higherIsBetter ? median(a) / median(b) : median(b) / median(a);
  return `${r.toFixed(2)}×`;
};
const peers = names.filter((n) => n !== 'cask');
const header = [
  'workload'.padEnd(34),
  ...names.map((n) => n.padStart(22)),
  ...peers.map((p) => `Cask vs ${p}`.padStart(22)),
].join(' ');
const row = (
  label: string,
  values: Map<string, number[]>,
  higherIsBetter: boolean,
  digits = 0,
) =>
  [
    label.padEnd(34),
    ...names.map((n) => cell(values.get(n), digits).padStart(22)),
    ...peers.map((p) =>
      ratio(values.get('cask'), values.get(p), higherIsBetter).padStart(22),
    ),
  ].join(' ');

console.log(
  `\nCask beside ocap-kernel ${versions['ocap-kernel']} (kernel-store ${versions['kernel-store']}, vats in worker threads) and SwingSet ${versions['swingset-vat']} (swing-store ${versions['swing-store']}, ${swingsetWorker} vats); stores on disk; reap: ${reap}`,
);
console.log(
  `ping-pong: deliveries/s over ${rounds} round trips x ${runs} runs; resume: ms, ${resumeRuns} runs after a warm-up; median (min–max). Ratios: how many times better Cask is (>1: Cask ahead).`,
);
console.log(header);
if (plain !== none) console.log(row('ping-pong, deliveries/s', plain, true));
if (write !== none) console.log(row('ping-pong + 100-byte write', write, true));
for (const [n, times] of resumes) {
  const pick = (which: keyof ResumeTimes) =>
    new Map([...times].map(([k, t]) => [k, t[which]]));
  console.log(row(`resume ${n / 1000}k keys, from spawn, ms`, pick('spawn'), false));
  console.log(row(`resume ${n / 1000}k keys, from start, ms`, pick('kernel'), false));
}
for (const k of kernels)
  if (k.failed) console.log(`${k.name} did not finish: ${k.failed}`);

const medians = (values: Map<string, number[]>) =>
  Object.fromEntries(
    [...values].filter(([, v]) => v.length).map(([k, v]) => [k, Math.round(median(v))]),
  );
console.log(
  JSON.stringify({
    bench: 'peers',
    rounds,
    runs,
    resumeRuns,
    reap,
    swingsetWorker,
    versions,
    deliveriesPerSecond: { plain: medians(plain), write100: medians(write) },
    resumeMs: Object.fromEntries(
      [...resumes].map(([n, times]) => [
        n,
        medians(new Map([...times].map(([k, t]) => [k, t.spawn]))),
      ]),
    ),
    resumeKernelMs: Object.fromEntries(
      [...resumes].map(([n, times]) => [
        n,
        medians(new Map([...times].map(([k, t]) => [k, t.kernel]))),
      ]),
    ),
    failed: Object.fromEntries(
      kernels.filter((k) => k.failed).map((k) => [k.name, k.failed]),
    ),
  }),
);
