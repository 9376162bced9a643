/**
 * The page channel between a paged vat's thread and the kernel's: answers of any size, a
 * kernel that cannot read, and a kernel that stops serving while the vat waits. Real
 * worker threads and shared memory.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { VatstorePages } from '../../kernel/protocol/index.ts';
import { makePageChannelLayout, servePageChannel } from './page-channel.ts';

const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
});

async function start(bytes?: number) {
  const pages = makePageChannelLayout(bytes);
  const worker = new Worker(new URL('../worker-entry/ts-entry.js', import.meta.url), {
    workerData: {
      entry: new URL('../../test/fixtures/page-client-worker.ts', import.meta.url).href,
      pages,
    },
  });
  workers.push(worker);
  const [hello] = (await once(worker, 'message')) as [{ maxKeyLength: number }];
  const ask = async (op: string, key = '', leave = false) => {
    worker.postMessage({ op, key, leave });
    const [reply] = (await once(worker, 'message')) as [
      { answer?: unknown; error?: string },
    ];
    return reply;
  };
  return { pages, ask, maxKeyLength: hello.maxKeyLength };
}

const source = (entries: Map<string, string>): VatstorePages => ({
  get: (key) => entries.get(key),
  next: (prior) => {
    const after = [...entries.keys()].sort().filter((k) => k > prior);
    return {
      entries: after.slice(0, 2).map((k) => [k, entries.get(k) as string]),
      end: after.length <= 2,
    };
  },
  all: () => JSON.stringify([...entries].sort()),
});

describe('the page channel', () => {
  it('answers gets, walks and the whole store, an answer larger than its buffer in parts', async () => {
    const { pages, ask, maxKeyLength } = await start(1024);
    expect(maxKeyLength).toBe(Math.floor(1024 / 3));
    const big = 'é'.repeat(5000); // 10,000 bytes of UTF-8: ten parts
    const close = servePageChannel(
      pages,
      source(
        new Map([
          ['a', '1'],
          ['b', big],
          ['c😀', '3'],
        ]),
      ),
    );
    expect(await ask('get', 'a')).toEqual({ answer: '1' });
    expect(await ask('get', 'zz')).toEqual({});
    expect(await ask('get', 'b')).toEqual({ answer: big });
    expect(await ask('next', 'a')).toEqual({
      answer: {
        entries: [
          ['b', big],
          ['c😀', '3'],
        ],
        end: true,
      },
    });
    expect(JSON.parse((await ask('all')).answer as string)).toEqual([
      ['a', '1'],
      ['b', big],
      ['c😀', '3'],
    ]);
    // A key longer than a question can carry is refused before anything is sent.
    expect((await ask('get', 'k'.repeat(maxKeyLength + 1))).error).toMatch(/too long/u);
    expect(await ask('get', 'a')).toEqual({ answer: '1' });
    close();
  });

  it('a read the kernel cannot answer throws in the vat, naming why; the next one works', async () => {
    const { pages, ask } = await start();
    let fail = true;
    servePageChannel(pages, {
      ...source(new Map([['a', '1']])),
      get(key) {
        if (fail) {
          fail = false;
          throw Error('Statement closed');
        }
        return key === 'a' ? '1' : undefined;
      },
    });
    expect((await ask('get', 'a')).error).toBe(
      'the kernel could not read the vatstore: Statement closed',
    );
    expect(await ask('get', 'a')).toEqual({ answer: '1' });
  });

  it('a vat waiting when the kernel stops serving is woken with an error, and so is every later read', async () => {
    const { pages, ask } = await start();
    const close = servePageChannel(pages, source(new Map([['a', '1']])));
    const state = new Int32Array(pages.buffer, 0, 1);
    const waiting = ask('get', 'a');
    // The kernel's thread is busy (here: blocked until the question is there), so the
    // vat waits; the kernel stops serving before it gets to answer.
    while (Atomics.load(state, 0) === 0) Atomics.wait(state, 0, 0);
    close();
    expect(await waiting).toEqual({
      error: 'the kernel closed this vat’s vatstore pages',
    });
    expect(await ask('get', 'a')).toEqual({
      error: 'the kernel closed this vat’s vatstore pages',
    });
  });
});
