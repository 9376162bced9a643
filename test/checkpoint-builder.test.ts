/**
 * Checkpoints built in a worker thread (node/checkpoint-builder): the image a worker
 * rebuilds from the stored checkpoint and log equals the kernel's state at that seq, the
 * next start recovers from it, and a builder that fails stops nothing: the kernel goes on
 * and exports in its own thread from then on. Real sql.js, real files, real workers.
 */
import * as fsPromises from 'node:fs/promises';
import initSqlJs from 'sql.js';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  capdataToJson,
  KernelStore,
  type CheckpointImageBuilder,
  type DurabilityOptions,
} from '../kernel/index.ts';
import { workerCheckpointBuilder } from '../node/checkpoint-builder/index.ts';
import type { FileSystem } from '../node/file-storage/index.ts';
import { makeNodeKernel, readNodeStore, type NodeKernel } from '../node/host/index.ts';
import { dumpStore, type Dump } from './fixtures/history.ts';
import { removeTempDirs, tempDir } from './fixtures/temp-dirs.ts';
import { resolveCluster, sampleVat } from './kernel-harness.ts';

afterAll(removeTempDirs);

/** A checkpoint every few commits, each built by `buildImage`, none at close. */
const often = (buildImage: CheckpointImageBuilder, extra: DurabilityOptions = {}) => ({
  checkpointMinBytes: 2 * 1024,
  checkpointRatio: 0.01,
  closeCheckpointMinBytes: Number.MAX_SAFE_INTEGER,
  buildImage,
  buildImageMinBytes: 0,
  ...extra,
});

/** A counter kernel on `dataDir`, incremented `n` times; the live state at each checkpoint. */
async function run(dataDir: string, durability: DurabilityOptions, n: number) {
  const live = new Map<number, Dump>();
  const host: NodeKernel = await makeNodeKernel({
    dataDir,
    durability: {
      ...durability,
      // Called as the checkpoint starts, between cranks: the state it must hold.
      onCheckpoint: (seq) => live.set(seq, dumpStore(host.store)),
    },
  });
  const { kernel } = host;
  const { result } = await kernel.launchCluster(
    await resolveCluster({ counter: { source: sampleVat('counter.js') } }, 'counter'),
  );
  await result;
  for (let i = 0; i < n; i += 1) {
    await kernel.queueMessage(kernel.rootOf('counter'), 'increment', []);
    // Each checkpoint finished before the next crank, so that several are taken.
    await host.durability?.settled();
  }
  await kernel.whenIdle();
  await host.durability?.settled();
  return { host, live };
}

describe('checkpoints built in a worker', { timeout: 120_000 }, () => {
  it('hold the state at their seq, and the next start recovers from the newest', async () => {
    const dataDir = await tempDir('cask-checkpoint-builder-');
    const worker = workerCheckpointBuilder();
    const images = new Map<number, Uint8Array>();
    const { host, live } = await run(
      dataDir,
      often(async (job) => {
        const image = await worker(job);
        images.set(job.seq, image.slice());
        return image;
      }),
      40,
    );
    const final = dumpStore(host.store);
    const stats = host.durability?.stats();
    await host.close();

    expect(images.size).toBeGreaterThanOrEqual(2);
    const SQL = await initSqlJs();
    for (const [seq, image] of images) {
      const built = KernelStore.open(SQL, image);
      try {
        expect(dumpStore(built), `checkpoint ${seq}`).toEqual(live.get(seq));
      } finally {
        built.close();
      }
    }
    // The newest checkpoint is one a worker built, and recovery starts from it.
    expect(images.has(stats?.checkpointSeq ?? -1)).toBe(true);
    const reading = await readNodeStore(dataDir);
    try {
      expect(reading.report.checkpointSeq).toBe(stats?.checkpointSeq);
      expect(dumpStore(reading.store)).toEqual(final);
    } finally {
      await reading.close();
    }
  });

  it('a builder that fails stops nothing: the next checkpoint is exported in the kernel thread', async () => {
    const dataDir = await tempDir('cask-checkpoint-builder-');
    const warn = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    let asked = 0;
    try {
      const { host } = await run(
        dataDir,
        often(() => {
          asked += 1;
          return Promise.reject(new Error('no worker today'));
        }),
        30,
      );
      const stats = host.durability?.stats();
      const count = capdataToJson(
        (await host.kernel.queueMessage(host.kernel.rootOf('counter'), 'getCount', []))
          .data,
      );
      await host.kernel.whenIdle();
      const final = dumpStore(host.store);
      await host.close();
      expect(asked).toBe(1);
      expect(stats?.failure).toBeUndefined();
      expect(stats?.checkpointSeq).toBeGreaterThan(0);
      expect(String(warn.mock.calls[0]?.[0])).toMatch(
        /checkpoint \d+ could not be built away from the kernel's thread \(no worker today\)/,
      );
      expect(count).toBe(30);
      const reading = await readNodeStore(dataDir);
      try {
        expect(dumpStore(reading.store)).toEqual(final);
      } finally {
        await reading.close();
      }
    } finally {
      warn.mockRestore();
    }
  });

  it('a full disk while a worker-built checkpoint is written stops the kernel, saying why; every acknowledged increment is there after a restart', async () => {
    const dataDir = await tempDir('cask-checkpoint-builder-');
    // The disk fills once the first checkpoint is on disk: the next one's write fails.
    let full = false;
    const fileSystem: FileSystem = {
      ...fsPromises,
      async open(path, flags) {
        const handle = await fsPromises.open(path, flags);
        if (!full || !String(path).endsWith('.ckpt.tmp')) return handle;
        return new Proxy(handle, {
          get(target, key) {
            if (key === 'write') {
              return () =>
                Promise.reject(
                  Object.assign(new Error('ENOSPC: no space left on device, write'), {
                    code: 'ENOSPC',
                  }),
                );
            }
            const value: unknown = Reflect.get(target, key);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      },
    };
    const worker = workerCheckpointBuilder();
    let built = 0;
    const stopped: unknown[] = [];
    const host = await makeNodeKernel({
      dataDir,
      fileSystem,
      onStop: (error) => stopped.push(error),
      durability: often(async (job) => {
        built += 1;
        return worker(job);
      }),
    });
    const { kernel } = host;
    const { result } = await kernel.launchCluster(
      await resolveCluster({ counter: { source: sampleVat('counter.js') } }, 'counter'),
    );
    await result;
    let acked = 0;
    for (let i = 0; i < 200 && stopped.length === 0; i += 1) {
      try {
        const answer = await kernel.queueMessage(
          kernel.rootOf('counter'),
          'increment',
          [],
        );
        if (!answer.rejected) acked = capdataToJson(answer.data) as number;
      } catch {
        break;
      }
      await host.durability?.settled().catch(() => undefined);
      if ((host.durability?.stats().checkpoints ?? 0) >= 1) full = true;
    }
    expect(built).toBeGreaterThanOrEqual(2);
    expect(String(host.durability?.stats().failure)).toMatch(/ENOSPC/);
    expect(stopped.map(String).join('\n')).toMatch(/ENOSPC/);
    await host.close().catch(() => undefined);

    full = false;
    const again = await makeNodeKernel({ dataDir });
    try {
      await again.kernel.resume();
      const count = capdataToJson(
        (await again.kernel.queueMessage(again.kernel.rootOf('counter'), 'getCount', []))
          .data,
      );
      expect(acked).toBeGreaterThan(0);
      expect(count).toBeGreaterThanOrEqual(acked);
    } finally {
      await again.close();
    }
  });

  it('a worker given a damaged checkpoint answers with what is wrong', async () => {
    const worker = workerCheckpointBuilder();
    await expect(
      worker({
        seq: 5,
        checkpoint: { seq: 4, bytes: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) },
        segments: [],
      }),
    ).rejects.toThrow(/checkpoint 4 cannot be read/);
  });
});
