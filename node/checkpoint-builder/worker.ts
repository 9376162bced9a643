/**
 * The checkpoint builder's worker thread: sql.js of its own, one job, one answer. It runs
 * no vat code, only the store and the log's decoder, so it loads kernel/durability alone
 * (the kernel's own door brings in SES-dependent modules this thread has no use for).
 */
import { parentPort } from 'node:worker_threads';
import initSqlJs from 'sql.js';
import {
  buildCheckpointImage,
  type CheckpointJob,
} from '../../kernel/durability/index.ts';
import { useNodeCrc32 } from '../checksum/index.ts';

export type CheckpointAnswer =
  { ok: true; image: Uint8Array } | { ok: false; error: string };

if (parentPort === null)
  throw Error('checkpoint-builder/worker.ts runs only as a worker thread');
const port = parentPort;
useNodeCrc32();
port.once('message', (job: CheckpointJob) => {
  initSqlJs()
    .then((SQL) => buildCheckpointImage(SQL, job))
    .then(
      (image) =>
        port.postMessage({ ok: true, image } satisfies CheckpointAnswer, [
          image.buffer as ArrayBuffer,
        ]),
      (error: unknown) =>
        port.postMessage({
          ok: false,
          error:
            error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        } satisfies CheckpointAnswer),
    );
});
