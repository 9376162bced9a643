/** What a host gives kernel/durability to keep the log and checkpoints in. */

/** Where a host keeps the log and checkpoints (files in Node, IndexedDB in the browser). */
export interface DurableStorage {
  /** Log seqs of the stored checkpoints, in any order. */
  listCheckpoints(): Promise<number[]>;
  readCheckpoint(seq: number): Promise<Uint8Array>;
  /** Stores a checkpoint atomically: afterwards it is there whole, or not at all. */
  writeCheckpoint(seq: number, bytes: Uint8Array): Promise<void>;
  deleteCheckpoint(seq: number): Promise<void>;
  /** First seqs of the stored log segments, in any order. */
  listLogSegments(): Promise<number[]>;
  readLogSegment(firstSeq: number): Promise<Uint8Array>;
  truncateLogSegment(firstSeq: number, length: number): Promise<void>;
  /** Makes the segment starting at `firstSeq` the one appends go to (creating it). */
  openLogSegment(firstSeq: number): Promise<void>;
  /**
   * Appends to the open segment; resolves once the bytes are durable. A rejection means
   * nothing of it may be counted on: some of its bytes may or may not be there.
   */
  appendLog(bytes: Uint8Array): Promise<void>;
  deleteLogSegment(firstSeq: number): Promise<void>;
  /**
   * Keeps bytes that recovery cut from the end of a log segment (a torn write), beside
   * the log, so that a person can look at them; nothing reads them back. Stored whole or
   * not at all; saving the same (segment, offset) again replaces the earlier copy.
   */
  saveCutTail(segment: number, offset: number, bytes: Uint8Array): Promise<void>;
  /** The cut tails kept so far, ordered by segment then offset. */
  listCutTails(): Promise<CutTail[]>;
  close(): Promise<void>;
}

/** Bytes recovery cut from the end of a log segment and kept (DurableStorage.saveCutTail). */
export interface CutTail {
  segment: number;
  /** Where in the segment the cut began. */
  offset: number;
  /** How many bytes were cut. */
  bytes: number;
  /** Where a person finds them (a file path, an IndexedDB store and key). */
  location: string;
}
