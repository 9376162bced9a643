/**
 * Paged vatstores (docs/store.md "Paged vatstores"): a vat that starts with none of its
 * store and reads each key from the kernel the first time it needs it must see exactly
 * what a vat given its whole store sees, in the same order, and give back the same
 * changes; over a real store (sql.js), real liveslots, and real worker threads.
 */
import initSqlJs from 'sql.js';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { capdataToJson, type KRef } from '../kernel/index.ts';
import type { VatChannel, VatLauncher } from '../kernel/platform/index.ts';
import type { InitVat, KernelToVat, VatstorePages } from '../kernel/protocol/index.ts';
import { KernelState } from '../kernel/state/index.ts';
import { KernelStore } from '../kernel/store/index.ts';
import { makeNodeKernel } from '../node/host/index.ts';
import { makeNodeVatLauncher } from '../node/vat-worker/index.ts';
import { PagedVatstore, VatstoreCache } from '../vat-supervisor/index.ts';
import { makeInProcessLauncher } from './fixtures/in-process-vats.ts';
import { removeTempDirs, tempDir } from './fixtures/temp-dirs.ts';
import { resolveCluster, testVat } from './kernel-harness.ts';

afterAll(removeTempDirs);
// Each kernel test starts up to three vat workers from source (tsx compiles the
// supervisor and liveslots in each): 7 s on an idle machine, past 30 s on a loaded one.
vi.setConfig({ testTimeout: 120_000 });

const SQL = await initSqlJs();
const VAT = 'v1';

/** A kernel store holding `pairs` for VAT, and the pages a paged vat reads it through. */
function committedStore(pairs: Array<[string, string]>) {
  const store = KernelStore.open(SQL);
  const state = new KernelState(store);
  const commit = (delta: { sets: Array<[string, string]>; deletes: string[] }) => {
    store.beginCrank();
    state.applyDelta(VAT, delta);
    store.commitCrank();
    store.takeChanges();
  };
  commit({ sets: pairs, deletes: [] });
  const pages: VatstorePages = {
    get: (key) => state.vatstoreGet(VAT, key),
    next: (prior, leavePrefix) => state.vatstoreAfter(VAT, prior, { leavePrefix }),
    all: () => state.loadVatstoreJson(VAT),
  };
  return { state, commit, pages };
}

/** A small deterministic generator (xorshift), so a failure replays. */
function random(seed: number) {
  let x = seed;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

// Characters that order alike in JavaScript and SQLite, with some above U+FFFF.
const PARTS = ['a', 'b', 'ab', '😀', 'a😀', '\u{10000}', 'é', 'z', '.', ''];

describe('a paged vatstore', () => {
  it('answers every read, walk and delta as the whole vatstore does, crank after crank', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const next = random(seed * 7919);
      const key = () =>
        `vc.${next(3)}.${PARTS[next(PARTS.length)]}${PARTS[next(PARTS.length)]}${next(40)}`;
      const initial = new Map<string, string>();
      for (let i = 0; i < 300; i += 1) initial.set(key(), `v${i}`);
      const pairs = [...initial].sort(([a], [b]) => (a < b ? -1 : 1));
      const { commit, pages, state } = committedStore(pairs);
      const whole = new VatstoreCache(pairs);
      const paged = new PagedVatstore(pages);
      for (let crank = 0; crank < 40; crank += 1) {
        for (let op = 0; op < 30; op += 1) {
          const k = key();
          switch (next(5)) {
            case 0:
              expect(paged.get(k)).toBe(whole.get(k));
              break;
            case 1: {
              // A walk of a few steps from a key that may or may not be there.
              let a: string | undefined = k;
              let b: string | undefined = k;
              for (let step = 0; step < 1 + next(20) && a !== undefined; step += 1) {
                a = paged.getNextKey(a);
                b = whole.getNextKey(b as string);
                expect(a).toBe(b);
              }
              break;
            }
            case 2:
            case 3:
              paged.set(k, `c${crank}.${op}`);
              whole.set(k, `c${crank}.${op}`);
              break;
            default:
              paged.delete(k);
              whole.delete(k);
          }
        }
        const expected = whole.takeDelta();
        const delta = paged.takeDelta();
        expect(delta.deletes).toEqual(expected.deletes);
        // A key set without being read first may come back at the value it had.
        const changed = delta.sets.filter(([k, v]) => state.vatstoreGet(VAT, k) !== v);
        expect(changed).toEqual(expected.sets);
        commit(delta);
      }
      expect(JSON.parse(state.loadVatstoreJson(VAT))).toEqual(
        walkAll(whole)
          .map((k) => [k, whole.get(k)])
          .sort(([a], [b]) => sqliteOrder(a as string, b as string)),
      );
      expect(paged.whole).toBe(false);
    }
  });

  it('reads a key once, and walks ahead in batches', () => {
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i < 1000; i += 1)
      pairs.push([`k${String(i).padStart(4, '0')}`, `v${i}`]);
    const { pages } = committedStore(pairs);
    const paged = new PagedVatstore(pages);
    expect(paged.get('k0001')).toBe('v1');
    expect(paged.get('k0001')).toBe('v1');
    expect(paged.get('nope')).toBeUndefined();
    expect(paged.get('nope')).toBeUndefined();
    expect(paged.reads).toBe(2);
    const keys = walkAll(paged);
    expect(keys).toEqual(pairs.map(([k]) => k));
    // 1000 keys at most 32 a read; the values came with them.
    expect(paged.reads).toBeLessThanOrEqual(2 + Math.ceil(1000 / 32) + 1);
    const reads = paged.reads;
    expect(paged.get('k0999')).toBe('v999');
    expect(paged.reads).toBe(reads);
  });

  it('answers a walk from a key JavaScript and SQLite order apart without asking the kernel to compare it', () => {
    // In JavaScript 'a😀' < 'a\uFFFF' < 'b'; in SQLite 'a\uFFFF' < 'a😀'.
    const { pages } = committedStore([
      ['a😀', '1'],
      ['b', '2'],
    ]);
    const paged = new PagedVatstore(pages);
    expect(paged.getNextKey('a\uFFFF')).toBe('b');
    expect(paged.getNextKey('\uFFFF')).toBeUndefined();
    expect(paged.getNextKey('a')).toBe('a😀');
    expect(paged.whole).toBe(false);
  });

  it('loads its store whole once it writes a key JavaScript and SQLite order apart, and goes on right', () => {
    const { pages, commit, state } = committedStore([
      ['a😀', '1'],
      ['b', '2'],
    ]);
    const paged = new PagedVatstore(pages);
    paged.set('c', '3');
    paged.delete('b');
    paged.set('a！', '4'); // U+FF01: after 'a😀' in JavaScript, before it in SQLite
    expect(paged.whole).toBe(true);
    expect(walkAll(paged)).toEqual(['a😀', 'a！', 'c']);
    const delta = paged.takeDelta();
    expect(delta).toEqual({
      sets: [
        ['a！', '4'],
        ['c', '3'],
      ],
      deletes: ['b'],
    });
    commit(delta);
    expect(state.vatstorePageable(VAT)).toBe(false);
  });

  it('loads its store whole for a key too long to ask for', () => {
    const long = 'k'.repeat(50);
    const { pages } = committedStore([[long, 'v']]);
    const paged = new PagedVatstore(pages, { maxKeyLength: 20 });
    expect(paged.get('short')).toBeUndefined();
    expect(paged.whole).toBe(false);
    expect(paged.get(long)).toBe('v');
    expect(paged.whole).toBe(true);
  });
});

function walkAll(store: { getNextKey(k: string): string | undefined }): string[] {
  const keys: string[] = [];
  for (let k = store.getNextKey(''); k !== undefined; k = store.getNextKey(k))
    keys.push(k);
  return keys;
}

/** SQLite's BINARY order: code points. */
function sqliteOrder(a: string, b: string): number {
  const pa = [...a].map((c) => c.codePointAt(0) as number);
  const pb = [...b].map((c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(pa.length, pb.length); i += 1) {
    if (pa[i] !== pb[i]) return (pa[i] as number) - (pb[i] as number);
  }
  return pa.length - pb.length;
}

/** A launcher that keeps each initVat it sends, to see whether it was paged. */
function recordingInits(inner: VatLauncher) {
  const inits: InitVat[] = [];
  const launcher: VatLauncher = {
    ...(inner.servesPages !== undefined && { servesPages: inner.servesPages }),
    async launch(vatId) {
      const channel = await inner.launch(vatId);
      const wrapped: VatChannel = {
        send(message: KernelToVat) {
          if (message.type === 'initVat') inits.push(message);
          channel.send(message);
        },
        onMessage: (handler) => channel.onMessage(handler),
        onExit: (handler) => channel.onExit(handler),
        close: () => channel.close(),
        ...(channel.servePages && {
          servePages: (pages: VatstorePages) => channel.servePages?.(pages),
        }),
      };
      return wrapped;
    },
  };
  return { launcher, inits };
}

describe('a vat started paged', () => {
  async function open(dataDir: string, launcher: VatLauncher) {
    const host = await makeNodeKernel({ dataDir, launcher, pagedVatstoreAbove: 100 });
    const call = async (target: KRef, method: string, ...args: unknown[]) => {
      const s = await host.kernel.queueMessage(target, method, args);
      if (s.rejected) throw Error(JSON.stringify(capdataToJson(s.data)));
      return capdataToJson(s.data);
    };
    return { ...host, call };
  }

  /** A new kernel in `dataDir` with the collector vat launched. */
  async function launchCollector(dataDir: string, launcher: VatLauncher) {
    const first = await open(dataDir, launcher);
    const { result } = await first.kernel.launchCluster(
      await resolveCluster(
        { collector: { source: testVat('collector.js') } },
        'collector',
      ),
    );
    await result;
    return { first, collector: first.kernel.rootOf('collector') };
  }

  for (const where of ['in a worker thread', 'in this thread'] as const) {
    it(`${where}: after a restart it reads, walks and changes its store as before`, async () => {
      const base = () =>
        where === 'in a worker thread'
          ? makeNodeVatLauncher()
          : makeInProcessLauncher({ pages: true });
      const dataDir = await tempDir('cask-paging-');
      const { first, collector } = await launchCollector(dataDir, base());
      await first.call(collector, 'fill', 300);
      await first.call(collector, 'put', 'a😀', 'emoji');
      // Larger than the page channel's 64 KiB: it comes in parts.
      await first.call(collector, 'put', 'big', 'y'.repeat(200_000));
      const before = (await first.call(collector, 'keys')) as string[];
      await first.close();

      const { launcher, inits } = recordingInits(base());
      const second = await open(dataDir, launcher);
      await second.kernel.resume();
      expect(await second.call(collector, 'size')).toBe(302);
      const init = inits.at(-1) as InitVat;
      expect(init.paged).toBe(true);
      expect(init.state).toBe('[]');
      expect(await second.call(collector, 'keys')).toEqual(before);
      expect(await second.call(collector, 'get', 'k000123')).toBe(
        `123:${'x'.repeat(20)}`,
      );
      expect(((await second.call(collector, 'get', 'big')) as string).length).toBe(
        200_000,
      );
      await second.call(collector, 'remove', 'k000007');
      await second.call(collector, 'put', 'k000007x', 'new');
      const after = (await second.call(collector, 'keys')) as string[];
      expect(after).toEqual(
        [...before.filter((k) => k !== 'k000007'), 'k000007x'].sort(),
      );
      // A key that JavaScript and SQLite order apart: the vat goes on whole, and the next
      // start is whole too.
      await second.call(collector, 'put', 'a！', 'fullwidth');
      expect(((await second.call(collector, 'keys')) as string[]).slice(0, 2)).toEqual([
        'a😀',
        'a！',
      ]);
      await second.close();

      const third = await open(dataDir, launcher);
      await third.kernel.resume();
      expect(((await third.call(collector, 'keys')) as string[]).slice(0, 2)).toEqual([
        'a😀',
        'a！',
      ]);
      expect((inits.at(-1) as InitVat).paged).toBeUndefined();
      expect(await third.call(collector, 'size')).toBe(303);
      await third.close();
    });
  }

  it('a vatstore of no more keys than the threshold, or a host that cannot page, gets it whole', async () => {
    const dataDir = await tempDir('cask-paging-');
    const { first, collector } = await launchCollector(dataDir, makeNodeVatLauncher());
    await first.call(collector, 'fill', 20);
    await first.close();
    const small = recordingInits(makeNodeVatLauncher());
    const second = await open(dataDir, small.launcher);
    await second.kernel.resume();
    expect(await second.call(collector, 'size')).toBe(20);
    expect(small.inits.at(-1)?.paged).toBeUndefined();
    await second.call(collector, 'fill', 300);
    await second.close();
    // The in-process host without pages stands for the extension's vat iframes.
    const cannot = recordingInits(makeInProcessLauncher());
    const third = await open(dataDir, cannot.launcher);
    await third.kernel.resume();
    expect(await third.call(collector, 'size')).toBe(300);
    expect(cannot.inits.at(-1)?.paged).toBeUndefined();
    await third.close();
  });
});
