/**
 * Checkpoints built in a worker thread (kernel/durability/checkpoint-image.ts), so that
 * the kernel's thread never stops for a database export: one worker per checkpoint,
 * handed the stored files (transferred, not copied) and ended once it answers, so its
 * sql.js memory is not kept between checkpoints, which come minutes apart.
 */
import { Worker } from 'node:worker_threads';
import type { CheckpointImageBuilder, CheckpointJob } from '../../kernel/index.ts';
import { workerEntry } from '../worker-entry/index.ts';
import type { CheckpointAnswer } from './worker.ts';

/** A build that takes longer is given up (the kernel then exports in its own thread). */
export const CHECKPOINT_BUILD_TIMEOUT_MS = 120_000;

/** Buffers a job can hand over whole: each owns its ArrayBuffer outright. */
function transferable(job: CheckpointJob): ArrayBuffer[] {
  const views = [
    ...(job.checkpoint ? [job.checkpoint.bytes] : []),
    ...job.segments.map((s) => s.bytes),
  ];
  const buffers = new Set<ArrayBuffer>();
  for (const view of views) {
    const { buffer } = view;
    if (
      buffer instanceof ArrayBuffer &&
      view.byteOffset === 0 &&
      view.byteLength === buffer.byteLength
    ) {
      buffers.add(buffer);
    }
  }
  return [...buffers];
}

export function workerCheckpointBuilder({
  timeoutMs = CHECKPOINT_BUILD_TIMEOUT_MS,
}: { timeoutMs?: number } = {}): CheckpointImageBuilder {
  return (job) =>
    new Promise<Uint8Array>((resolve, reject) => {
      const { url, entry } = workerEntry(import.meta.url, 'checkpoint-builder/worker');
      const worker = new Worker(url, { workerData: { entry } });
      let done = false;
      const finish = (outcome: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        void worker.terminate();
        outcome();
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no image after ${timeoutMs} ms`))),
        timeoutMs,
      );
      worker.once('message', (answer: CheckpointAnswer) =>
        finish(() =>
          answer.ok ? resolve(answer.image) : reject(new Error(answer.error)),
        ),
      );
      worker.once('error', (error) => finish(() => reject(error)));
      worker.once('exit', (code) =>
        finish(() =>
          reject(
            new Error(`the checkpoint worker exited (code ${code}) without an image`),
          ),
        ),
      );
      worker.postMessage(job, transferable(job));
    });
}
