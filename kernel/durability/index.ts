/**
 * Durability: the crank log, checkpoints and recovery, over a host's DurableStorage.
 *
 * - Each write of the commit gate (one crank, or a group of cranks that ran while the
 *   previous write was in flight) becomes one log record holding exactly the rows they
 *   changed, so a commit costs what the change costs, whatever the size of the database.
 * - When the log since the last checkpoint outgrows the database, the whole database is
 *   written as a new checkpoint; the retention policy then says which older checkpoints
 *   and log segments stay as history (retention.ts), which history.ts reads back:
 *   commits, the state after any of them, a restore (Durability.installRestore).
 * - Recovery opens the newest usable checkpoint and replays the records after it, in
 *   order, refusing a log that is not one unbroken chain. A torn write at the very end
 *   (a crash mid-append) is cut off, kept beside the log and reported; any other damage
 *   stops recovery with an error naming where, and nothing after it is applied.
 *
 * docs/durability.md has the formats and the rules; docs/faults.md what each fault does.
 */
export {
  buildCheckpointImage,
  type CheckpointImageBuilder,
  type CheckpointJob,
} from './checkpoint-image.ts';
export { CommitGate, type CommitGateOptions, type CommitLog } from './commit-gate.ts';
export { crc32, useNativeCrc32, type NativeCrc32 } from './crc32.ts';
export type { CrankNote } from './format.ts';
export {
  Durability,
  type DurabilityOptions,
  type DurabilityStats,
} from './durability.ts';
export {
  readStore,
  recoverStore,
  RecoveryError,
  type RecoveryReport,
} from './recovery.ts';
export {
  StateFileError,
  checkStateFile,
  exportStateFile,
  installStateImage,
  stateFileOf,
} from './state-file.ts';
export type { CutTail, DurableStorage } from './storage.ts';
export {
  History,
  HistoryError,
  SealedSegments,
  forkImage,
  restoreImage,
  type DecodedRecord,
  type HistoryCommit,
  type HistoryLabel,
  type KeyChange,
} from './history.ts';
export {
  prepareRestore,
  type PreparedRestore,
  type RestoreOutcome,
  type RestoreParts,
  type RestoringKernel,
} from './restore.ts';
export {
  DEFAULT_KEEP_CHECKPOINTS,
  planRetention,
  type RetentionPolicy,
} from './retention.ts';
