/**
 * The Cask kernel, platform-neutral. Hosts (node/, extension/) give it a store and a few
 * platform services; see kernel/platform.
 */
export * from './core/index.ts';
export * from './cluster/index.ts';
export type * from './platform/index.ts';
export { realClock } from './platform/index.ts';
export {
  KernelStore,
  StoreError,
  SCHEMA_VERSION,
  type RowChange,
} from './store/index.ts';
export {
  capdataToJson,
  jsonToCapdata,
  kerror,
  kser,
  kslot,
  kunser,
} from './marshal/index.ts';
export { PROTOCOL_VERSION, type CapData, type VatBundle } from './protocol/index.ts';
export {
  KernelState,
  type VatRecord,
  type VatVersion,
  type KRef,
  type VatId,
  type VatstorePage,
  type Message,
  type PromiseRecord,
  type QueuedItem,
  type RunQueueItem,
} from './state/index.ts';
export {
  readStore,
  recoverStore,
  Durability,
  buildCheckpointImage,
  type CheckpointImageBuilder,
  type CheckpointJob,
  RecoveryError,
  StateFileError,
  checkStateFile,
  exportStateFile,
  installStateImage,
  stateFileOf,
  type CommitLog,
  type CutTail,
  type DurableStorage,
  type DurabilityOptions,
  type DurabilityStats,
  type RecoveryReport,
  History,
  HistoryError,
  SealedSegments,
  forkImage,
  restoreImage,
  DEFAULT_KEEP_CHECKPOINTS,
  prepareRestore,
  type PreparedRestore,
  type RestoreOutcome,
  type RestoreParts,
  type RestoringKernel,
  type HistoryCommit,
  type HistoryLabel,
  type KeyChange,
  type RetentionPolicy,
} from './durability/index.ts';
export {
  historyReader,
  labelCommit,
  unlabelCommit,
  LABEL_PATTERN,
  type HistoryListing,
  type HistoryReader,
  type HistorySpace,
  type LabellingParts,
  type ListedCommit,
  type LoggedCrank,
  type LoggedDelta,
  type ResultState,
  type SizedStorage,
  type VatstoreAtPage,
} from './history/index.ts';
