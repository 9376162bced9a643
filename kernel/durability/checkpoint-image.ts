/**
 * A checkpoint's image built away from the kernel's thread. Exporting sql.js's database
 * stops the run queue for as long as the copy takes, and that grows with the store (about
 * 40 ms at 100k keys). A host with threads hands the job to a worker instead: the files
 * the newest checkpoint and the log after it are stored in, up to the checkpoint's seq.
 * The worker opens the checkpoint and replays the records in a store of its own — what a
 * restore does (history.ts) — and answers with its export; the kernel never stops.
 */
import type { SqlJsStatic } from 'sql.js';
import { History } from './history.ts';
import type { DurableStorage } from './storage.ts';

/** What a checkpoint at `seq` is built from: a stored checkpoint, then the log after it. */
export interface CheckpointJob {
  seq: number;
  /** The newest checkpoint before `seq`, as stored; none when the log starts at seq 1. */
  checkpoint?: { seq: number; bytes: Uint8Array };
  /** The log segments holding the records after it up to `seq`, as stored. */
  segments: Array<{ first: number; bytes: Uint8Array }>;
}

/** Builds the image of a checkpoint job (the host's worker runs buildCheckpointImage). */
export type CheckpointImageBuilder = (job: CheckpointJob) => Promise<Uint8Array>;

/** The image after record `job.seq`, rebuilt from the job's files in this thread. */
export async function buildCheckpointImage(
  SQL: SqlJsStatic,
  job: CheckpointJob,
): Promise<Uint8Array> {
  const { store } = await new History(SQL, jobStorage(job)).stateAtSeq(job.seq);
  try {
    return store.export();
  } finally {
    store.close();
  }
}

/** The job's files as a storage that can only be read. */
function jobStorage(job: CheckpointJob): DurableStorage {
  const segments = new Map(job.segments.map((s) => [s.first, s.bytes]));
  const refuse = (op: string) => () =>
    Promise.reject(new Error(`${op}: a checkpoint job's files are read-only`));
  const missing = (what: string) => new Error(`a checkpoint job holds no ${what}`);
  return {
    listCheckpoints: () => Promise.resolve(job.checkpoint ? [job.checkpoint.seq] : []),
    readCheckpoint: (seq) =>
      job.checkpoint?.seq === seq
        ? Promise.resolve(job.checkpoint.bytes)
        : Promise.reject(missing(`checkpoint ${seq}`)),
    listLogSegments: () => Promise.resolve([...segments.keys()]),
    readLogSegment: (first) => {
      const bytes = segments.get(first);
      return bytes ? Promise.resolve(bytes) : Promise.reject(missing(`segment ${first}`));
    },
    listCutTails: () => Promise.resolve([]),
    writeCheckpoint: refuse('writeCheckpoint'),
    deleteCheckpoint: refuse('deleteCheckpoint'),
    truncateLogSegment: refuse('truncateLogSegment'),
    openLogSegment: refuse('openLogSegment'),
    appendLog: refuse('appendLog'),
    deleteLogSegment: refuse('deleteLogSegment'),
    saveCutTail: refuse('saveCutTail'),
    close: () => Promise.resolve(),
  };
}
