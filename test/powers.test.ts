/**
 * Vat powers and endowments, through a real kernel: vats in worker threads, real
 * liveslots, real sql.js. What ocap-kernel and SwingSet vats expect of their powers
 * (vatPowers.logger, testLog, exitVat, exitVatWithFailure, @agoric/vat-data), and
 * endowments granted exactly as a vat's config names them, async ones completing in a
 * crank of the vat's own.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  capdataToJson,
  type CrankRecord,
  type Kernel,
  type ResolvedCluster,
  type VatLogEntry,
} from '../kernel/index.ts';
import { VAT_LOG_LIMITS, parseVatToKernel } from '../kernel/protocol/index.ts';
import { bundleVatSource } from './fixtures/bundle-cache.ts';
import { formatVatLog, makeNodeKernel, type NodeKernel } from '../node/host/index.ts';
import { makeNodeSupervisorPlatform } from '../node/vat-worker/index.ts';
import { makeVatSupervisor } from '../vat-supervisor/index.ts';
import { callRoot, initVat, startVat } from './fixtures/vat-harness.ts';
import { makeInProcessLauncher } from './fixtures/in-process-vats.ts';
import { testVat } from './kernel-harness.ts';

interface VatSpec {
  source: string;
  globals?: string[];
  network?: { allowedHosts: string[] };
}

interface Running {
  host: NodeKernel;
  kernel: Kernel;
  logs: VatLogEntry[];
  cranks: CrankRecord[];
  call(vat: string, method: string, ...args: unknown[]): Promise<unknown>;
  /** The settlement, rejected or not, as JSON. */
  settle(
    vat: string,
    method: string,
    ...args: unknown[]
  ): Promise<{ rejected: boolean; value: unknown }>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function resolveVats(vats: Record<string, VatSpec>): Promise<ResolvedCluster> {
  const resolved: ResolvedCluster['vats'] = {};
  for (const [name, vat] of Object.entries(vats)) {
    resolved[name] = {
      bundle: await bundleVatSource(vat.source),
      parameters: {},
      globals: vat.globals ?? [],
      ...(vat.network ? { network: vat.network } : {}),
    };
  }
  return { bootstrap: Object.keys(vats)[0] ?? '', vats: resolved };
}

/** Opens a kernel (in memory, or on `dataDir`), launching `vats` if it is new. */
async function open(vats: Record<string, VatSpec>, dataDir?: string): Promise<Running> {
  const logs: VatLogEntry[] = [];
  const cranks: CrankRecord[] = [];
  const host = await makeNodeKernel({
    ...(dataDir ? { dataDir } : {}),
    onVatLog: (entry) => logs.push(entry),
    onCrank: (record) => cranks.push(record),
  });
  const close = host.close.bind(host);
  cleanups.push(close);
  const { kernel } = host;
  if (host.isNew) {
    const { result } = await kernel.launchCluster(await resolveVats(vats));
    await result;
  } else {
    await kernel.resume();
  }
  await kernel.whenIdle();
  const settle = async (vat: string, method: string, ...args: unknown[]) => {
    const settlement = await kernel.queueMessage(kernel.rootOf(vat), method, args);
    return { rejected: settlement.rejected, value: capdataToJson(settlement.data) };
  };
  return {
    host: Object.assign(host, { close }),
    kernel,
    logs,
    cranks,
    settle,
    async call(vat, method, ...args) {
      const { rejected, value } = await settle(vat, method, ...args);
      if (rejected) throw Error(`${method} rejected: ${JSON.stringify(value)}`);
      return value;
    },
  };
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cask-powers-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A local HTTP server on port 0; closed after the test. */
async function serve(
  handler: Handler,
): Promise<{ origin: string; host: string; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, host: '127.0.0.1', port };
}

/** Every endowment (Date and Math are always there, tamed by SES unless granted). */
const ALL_GLOBALS = [
  'TextEncoder',
  'TextDecoder',
  'URL',
  'URLSearchParams',
  'atob',
  'btoa',
  'AbortController',
  'AbortSignal',
  'Date',
  'Math',
  'crypto',
  'fetch',
];

describe('vatPowers.logger (ocap-kernel)', () => {
  it("reaches the host's log with the vat's name and the tags, sub-loggers' tags accumulating", async () => {
    const k = await open({ greeter: { source: testVat('powers-logger.js') } });
    expect(await k.call('greeter', 'hello', 'alice')).toBe('hi alice');
    const lines = k.logs.map((e) => ({ ...e }));
    expect(lines).toContainEqual({
      vatId: 'v1',
      vatName: 'greeter',
      level: 'info',
      tags: ['ocap-style'],
      text: 'built',
    });
    expect(lines).toContainEqual({
      vatId: 'v1',
      vatName: 'greeter',
      level: 'log',
      tags: ['ocap-style', 'greeter', 'inner'],
      text: 'hello alice {"n":1}',
    });
    const hello = lines.find((e) => e.level === 'log');
    expect(hello && formatVatLog(hello)).toBe(
      '[greeter] log [ocap-style, greeter, inner]: hello alice {"n":1}',
    );
  });

  it('the Node host prints each line on stderr, by default', async () => {
    const host = await makeNodeKernel();
    cleanups.push(() => host.close());
    const written: string[] = [];
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    cleanups.push(async () => write.mockRestore());
    const { result } = await host.kernel.launchCluster(
      await resolveVats({ greeter: { source: testVat('powers-logger.js') } }),
    );
    await result;
    await host.kernel.whenIdle();
    write.mockRestore();
    expect(written).toContain('[greeter] info [ocap-style]: built\n');
  });

  it('is not a syscall: a crank that only logs changes nothing', async () => {
    const k = await open({ greeter: { source: testVat('powers-logger.js') } });
    const before = k.cranks.length;
    expect(await k.call('greeter', 'flood', 3)).toBe(3);
    const crank = k.cranks.slice(before).find((c) => c.method === 'flood');
    expect(crank).toMatchObject({ outcome: 'ok', deltaKeys: 0 });
    expect(k.logs.filter((e) => e.level === 'debug').map((e) => e.text)).toEqual([
      'line 0',
      'line 1',
      'line 2',
    ]);
  });

  it('bounds a crank that floods: the lines past the limit are dropped and counted', async () => {
    const k = await open({ greeter: { source: testVat('powers-logger.js') } });
    expect(await k.call('greeter', 'flood', 1000)).toBe(1000);
    const debug = k.logs.filter((e) => e.level === 'debug');
    expect(debug).toHaveLength(VAT_LOG_LIMITS.linesPerDelivery - 1);
    const dropped = k.logs.filter((e) => e.tags.includes('cask'));
    expect(dropped.map((e) => e.text)).toEqual([
      `${1000 - (VAT_LOG_LIMITS.linesPerDelivery - 1)} log lines dropped: more than ${VAT_LOG_LIMITS.linesPerDelivery - 1} in one crank`,
    ]);
    // The next crank has a budget of its own.
    await k.call('greeter', 'flood', 2);
    expect(k.logs.filter((e) => e.level === 'debug')).toHaveLength(
      VAT_LOG_LIMITS.linesPerDelivery + 1,
    );
  });

  it('cuts a long line', async () => {
    const k = await open({ greeter: { source: testVat('powers-logger.js') } });
    await k.call('greeter', 'long', 10_000);
    const warn = k.logs.find((e) => e.level === 'warn');
    const note = '… (10000 characters in all)';
    expect(warn?.text).toBe(
      `${'x'.repeat(VAT_LOG_LIMITS.textLength - note.length)}${note}`,
    );
  });

  it('never breaks the crank: values that cannot be rendered are shown as such', async () => {
    const k = await open({ greeter: { source: testVat('powers-logger.js') } });
    expect(await k.call('greeter', 'awkward')).toBe('still running');
    expect(k.logs.find((e) => e.level === 'error')?.text).toBe('[unprintable value]');
    const log = k.logs.find((e) => e.level === 'log')?.text ?? '';
    expect(log).toMatch(/^10n undefined Symbol\(s\) Error: an error\n/u);
  });
});

describe("SwingSet's vatPowers", () => {
  it('gives what liveslots and the SwingSet supervisor give, and the logger', async () => {
    const k = await open({ greeter: { source: testVat('powers-logger.js') } });
    expect(await k.call('greeter', 'powers')).toEqual([
      'D',
      'VatData',
      'WeakMap',
      'WeakSet',
      'exitVat',
      'exitVatWithFailure',
      'logger',
      'makeMarshal',
      'testLog',
    ]);
  });

  it('testLog goes to the host marked as test output, rendered as SwingSet renders it', async () => {
    const k = await open({ greeter: { source: testVat('powers-logger.js') } });
    await k.call('greeter', 'hello', 'bob');
    const tests = k.logs.filter((e) => e.level === 'test');
    expect(tests.map((e) => e.text)).toEqual(['said hello to bob {"times":1}']);
    expect(formatVatLog(tests[0] as VatLogEntry)).toBe(
      '[greeter] test: said hello to bob {"times":1}',
    );
  });

  it('exitVat ends the vat: terminated with its completion, messages to it rejected', async () => {
    const k = await open({ greeter: { source: testVat('powers-logger.js') } });
    const vatId = k.kernel.state.getVatByName('greeter')?.vatId ?? '';
    const root = k.kernel.rootOf('greeter');
    expect(await k.call('greeter', 'exit', { done: 'all' })).toBe('exiting');
    await k.kernel.whenIdle();
    const vat = k.kernel.state.getVat(vatId);
    expect(vat?.state).toBe('terminated');
    expect(vat?.reason).toBe('it exited: {"done":"all"}');
    expect(() => k.kernel.rootOf('greeter')).toThrow(/was terminated: it exited/u);
    await expect(k.kernel.queueMessage(root, 'hello', ['x'])).rejects.toThrow(
      /no kernel object or promise/u,
    );
  });

  it('exitVatWithFailure ends the vat with its reason', async () => {
    const k = await open({ greeter: { source: testVat('powers-logger.js') } });
    const vatId = k.kernel.state.getVatByName('greeter')?.vatId ?? '';
    expect(await k.call('greeter', 'fail', 'out of luck')).toBe('failing');
    await k.kernel.whenIdle();
    const vat = k.kernel.state.getVat(vatId);
    expect(vat?.state).toBe('terminated');
    expect(vat?.reason).toMatch(/^it exited with failure: .*out of luck/u);
  });
});

describe('@agoric/vat-data', () => {
  it('runs a SwingSet-style vat whose state survives restartVat and a kernel restart', async () => {
    const dataDir = await tempDir();
    const vats = { ledger: { source: testVat('powers-vat-data.js') } };
    const first = await open(vats, dataDir);
    expect(await first.call('ledger', 'incr')).toBe(11);
    expect(await first.call('ledger', 'note', 'a', 'first note')).toBe(1);
    const vatId = first.kernel.state.getVatByName('ledger')?.vatId ?? '';
    await first.kernel.restartVat(vatId);
    expect(await first.call('ledger', 'incr')).toBe(12);
    expect(await first.call('ledger', 'notes')).toEqual([['a', 'first note']]);
    expect(await first.call('ledger', 'incarnations')).toBe(2);
    await first.host.close();

    const second = await open(vats, dataDir);
    expect(await second.call('ledger', 'read')).toBe(12);
    expect(await second.call('ledger', 'note', 'b', 'second note')).toBe(2);
    expect(await second.call('ledger', 'notes')).toEqual([
      ['a', 'first note'],
      ['b', 'second note'],
    ]);
    expect(await second.call('ledger', 'incarnations')).toBe(3);
    expect(second.logs.filter((e) => e.level === 'test').map((e) => e.text)).toEqual([
      'incarnation 3',
    ]);
  });
});

describe('endowments', () => {
  it('grants nothing unasked: not even what @endo/import-bundle adds on its own', async () => {
    const k = await open({ bare: { source: testVat('powers-endowments.js') } });
    const withheld = ALL_GLOBALS.filter((name) => name !== 'Date' && name !== 'Math');
    expect(await k.call('bare', 'present', withheld)).toEqual([]);
    // SES's own tamed Date and Math stay: no clock, no randomness.
    const { rejected } = await k.settle('bare', 'clock');
    expect(rejected).toBe(true);
  });

  it('grants exactly what the config names', async () => {
    const k = await open({
      some: { source: testVat('powers-endowments.js'), globals: ['TextEncoder', 'atob'] },
    });
    const withheld = ALL_GLOBALS.filter((name) => name !== 'Date' && name !== 'Math');
    expect(await k.call('some', 'present', withheld)).toEqual(['TextEncoder', 'atob']);
  });

  it('a name not on the allow-list fails the vat at its start, named', async () => {
    const host = await makeNodeKernel({ onVatLog: () => undefined });
    cleanups.push(() => host.close());
    const cluster = await resolveVats({
      odd: { source: testVat('powers-endowments.js'), globals: ['setImmediate'] },
    });
    await host.kernel.launchCluster(cluster);
    await host.kernel.whenIdle();
    const vat = host.kernel.state.getVatByName('odd');
    expect(vat?.state).toBe('suspended');
    expect(vat?.reason).toMatch(/global "setImmediate" is not allowed for vats/u);
  });

  it('codecs, a real clock, Math.random, crypto and crypto.subtle work', async () => {
    const k = await open({
      all: {
        source: testVat('powers-endowments.js'),
        globals: ALL_GLOBALS,
        network: { allowedHosts: [] },
      },
    });
    expect(await k.call('all', 'codecs')).toEqual({
      bytes: 6,
      text: 'héllo',
      url: 'https://example.test/a?b=1&c=2',
      params: '2',
      b64: 'aGk=',
      unb64: 'hi',
    });
    const before = Date.now();
    const { now, random } = (await k.call('all', 'clock')) as {
      now: number;
      random: number;
    };
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
    expect(random).toBeGreaterThanOrEqual(0);
    expect(random).toBeLessThan(1);
    expect(await k.call('all', 'randomBytes')).toBe(8);
    expect(await k.call('all', 'digest', 'cask')).toBe(
      createHash('sha256').update('cask').digest('hex'),
    );
    expect(await k.call('all', 'signAndVerify', 'cask')).toBe(true);
  });

  it("one vat cannot change what another sees: what is shared is frozen, the rest the vat's own", async () => {
    const k = await open({
      all: {
        source: testVat('powers-endowments.js'),
        globals: ALL_GLOBALS,
        network: { allowedHosts: [] },
      },
    });
    expect(await k.call('all', 'tamper')).toEqual({
      encoderPrototype: 'refused',
      urlPrototype: 'refused',
      abortSignal: 'refused',
      crypto: 'refused',
      subtle: 'refused',
      fetch: 'refused',
    });
    expect(await k.call('all', 'timeoutSignal')).toMatch(
      /AbortSignal.timeout is not available to vats/u,
    );
  });
});

describe('endowments in one realm', () => {
  it('vats that share a realm (in process) cannot change what the other sees', async () => {
    const host = await makeNodeKernel({
      launcher: makeInProcessLauncher(),
      onVatLog: () => undefined,
    });
    cleanups.push(() => host.close());
    const spec = {
      source: testVat('powers-endowments.js'),
      // The in-process harness offers no fetch.
      globals: ALL_GLOBALS.filter((name) => name !== 'fetch'),
    };
    const { result } = await host.kernel.launchCluster(
      await resolveVats({ a: spec, b: spec }),
    );
    await result;
    const call = async (vat: string, method: string) =>
      capdataToJson(
        (await host.kernel.queueMessage(host.kernel.rootOf(vat), method, [])).data,
      );
    expect(await call('a', 'tamper')).toMatchObject({
      encoderPrototype: 'refused',
      urlPrototype: 'refused',
      abortSignal: 'refused',
      crypto: 'refused',
      subtle: 'refused',
    });
    expect(await call('b', 'codecs')).toMatchObject({
      bytes: 6,
      url: 'https://example.test/a?b=1&c=2',
    });
    expect(await call('b', 'randomBytes')).toBe(8);
  });
});

describe('fetch', () => {
  it('settles when awaited: the response and its body reach the vat in later cranks', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/json') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ answer: 42 }));
        return;
      }
      res.setHeader('content-type', 'text/plain');
      res.end(`you asked for ${req.url}`);
    });
    const k = await open({
      net: {
        source: testVat('powers-endowments.js'),
        globals: ['fetch'],
        network: { allowedHosts: [server.host] },
      },
    });
    const before = k.cranks.length;
    expect(await k.call('net', 'fetchText', `${server.origin}/hello`)).toEqual({
      status: 200,
      text: 'you asked for /hello',
      redirected: false,
      type: 'text/plain',
    });
    const settles = k.cranks.slice(before).filter((c) => c.kind === 'settle');
    // One for the response, one for the body at least; each a crank of its own.
    expect(settles.length).toBeGreaterThanOrEqual(2);
    expect(settles.every((c) => c.outcome === 'ok')).toBe(true);
    expect(k.logs.filter((e) => e.level === 'test').map((e) => e.text)).toEqual([
      'fetched 200',
    ]);
    expect(await k.call('net', 'fetchJson', `${server.origin}/json`)).toEqual({
      answer: 42,
    });
  });

  it('reaches only the allowed hosts, redirects included, over http(s) only', async () => {
    const other = await serve((_req, res) => res.end('other'));
    const server = await serve((req, res) => {
      if (req.url === '/away') {
        // Same address, another port: not allowed by host:port.
        res.writeHead(302, { location: `http://localhost:${other.port}/` });
        res.end();
        return;
      }
      if (req.url === '/home') {
        res.writeHead(302, { location: '/landed' });
        res.end();
        return;
      }
      res.end(`at ${req.url}`);
    });
    const k = await open({
      net: {
        source: testVat('powers-endowments.js'),
        globals: ['fetch'],
        network: { allowedHosts: [`127.0.0.1:${server.port}`] },
      },
    });
    expect(await k.call('net', 'fetchText', `${server.origin}/home`)).toMatchObject({
      text: 'at /landed',
      redirected: true,
    });
    expect(await k.call('net', 'fetchError', `${server.origin}/away`)).toMatch(
      /fetch to localhost:\d+ is not allowed/u,
    );
    expect(await k.call('net', 'fetchError', other.origin)).toMatch(
      /fetch to 127\.0\.0\.1:\d+ is not allowed: it is not in this vat's network\.allowedHosts/u,
    );
    expect(await k.call('net', 'fetchError', 'file:///etc/passwd')).toMatch(
      /fetch to file: URLs is not allowed/u,
    );
  });

  it('an abort from the vat rejects its fetch, in a later crank', async () => {
    const server = await serve((_req, res) => res.end('late'));
    const k = await open({
      net: {
        source: testVat('powers-endowments.js'),
        globals: ['fetch', 'AbortController'],
        network: { allowedHosts: [server.host] },
      },
    });
    expect(await k.call('net', 'abortFetch', server.origin)).toBe('AbortError');
  });

  it('without network.allowedHosts the vat does not start, and says why', async () => {
    const host = await makeNodeKernel({ onVatLog: () => undefined });
    cleanups.push(() => host.close());
    await host.kernel.launchCluster(
      await resolveVats({
        net: { source: testVat('powers-endowments.js'), globals: ['fetch'] },
      }),
    );
    await host.kernel.whenIdle();
    expect(host.kernel.state.getVatByName('net')?.reason).toMatch(
      /"fetch" needs the hosts it may reach: give the vat config "network"/u,
    );
  });

  it('a completion that arrives after the vat restarted is dropped with its heap', async () => {
    let arrived!: () => void;
    const requested = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const held: ServerResponse[] = [];
    const server = await serve((_req, res) => {
      held.push(res);
      arrived();
    });
    const k = await open({
      net: {
        source: testVat('powers-endowments.js'),
        globals: ['fetch'],
        network: { allowedHosts: [server.host] },
      },
    });
    const vatId = k.kernel.state.getVatByName('net')?.vatId ?? '';
    const answer = k.settle('net', 'fetchLater', server.origin);
    await requested;
    await k.kernel.restartVat(vatId);
    const { rejected, value } = await answer;
    expect(rejected).toBe(true);
    expect(JSON.stringify(value)).toMatch(/restarted/u);
    const before = k.cranks.length;
    for (const res of held) res.end('too late');
    // The new incarnation runs on; nothing of the old fetch reaches it.
    expect(await k.call('net', 'present', ['fetch'])).toEqual(['fetch']);
    await k.kernel.whenIdle();
    expect(k.cranks.slice(before).filter((c) => c.kind === 'settle')).toEqual([]);
  });
});

describe('logging in a vat, at the supervisor', () => {
  it('posts each line on its own, before the reply, and none in the reply', async () => {
    const posted: unknown[] = [];
    const supervisor = makeVatSupervisor({
      post: (message) => posted.push(parseVatToKernel(message)),
      platform: makeNodeSupervisorPlatform(),
    });
    await supervisor.handle(
      initVat('v1', await bundleVatSource(testVat('powers-logger.js'))),
    );
    await supervisor.handle(startVat(1));
    posted.length = 0;
    await supervisor.handle(callRoot(2, 'flood', [2], 'p-1'));
    expect(posted.map((m) => (m as { type: string }).type)).toEqual([
      'vatLog',
      'vatLog',
      'delivered',
    ]);
    const reply = posted[2] as { syscalls: Array<{ kind: string }> };
    // The only syscall is the result's resolution: a log line is not one.
    expect(reply.syscalls.map((s) => s.kind)).toEqual(['resolve']);
    posted.length = 0;
    await supervisor.handle(
      callRoot(3, 'flood', [VAT_LOG_LIMITS.linesPerDelivery * 2], 'p-2'),
    );
    const logs = posted.filter((m) => (m as { type: string }).type === 'vatLog');
    // Within the kernel's budget, the count of dropped lines included.
    expect(logs).toHaveLength(VAT_LOG_LIMITS.linesPerDelivery);
    expect(logs.at(-1)).toMatchObject({ level: 'warn', tags: ['cask'] });
  });
});
