/**
 * Retention: which checkpoints and log segments stay when a checkpoint is taken, so that
 * the kernel keeps a history it can restore to (docs/history.md).
 *
 * Kept: the newest `keepCheckpoints` checkpoints and every segment from the oldest of
 * them on (so each commit after it can be rebuilt from a checkpoint at or before it), and
 * for each labelled commit the newest checkpoint at or before it and the segments up to
 * it; with `keepFor`, also every checkpoint and segment a commit younger than that needs.
 * Everything else goes. Pure: the caller deletes.
 */

export interface RetentionPolicy {
  /**
   * How many of the newest checkpoints to keep, with the log between and after them
   * (≥ 1; 1 keeps no history before the newest checkpoint). Default 2.
   */
  keepCheckpoints?: number;
  /**
   * Also keep everything younger than this many milliseconds: the newest checkpoint at
   * least that old, every checkpoint after it and the log from it on, so any commit of
   * that age can be restored. Unset: no age rule.
   */
  keepFor?: number;
}

export const DEFAULT_KEEP_CHECKPOINTS = 2;

export interface RetentionInput {
  /** Stored checkpoints' seqs (any order). */
  checkpoints: readonly number[];
  /** Stored segments' first seqs (any order). */
  segments: readonly number[];
  /** The seqs of labelled commits: each is kept, whatever the policy says. */
  labelled: readonly number[];
  policy?: RetentionPolicy;
  /**
   * For `keepFor`: when each checkpoint's state was current (ms since the epoch), or a
   * later time. A checkpoint without one counts as young, so it is kept.
   */
  checkpointTimes?: ReadonlyMap<number, number>;
  /** Now, for `keepFor` (ms since the epoch). */
  now?: number;
}

export interface RetentionPlan {
  checkpoints: number[];
  segments: number[];
}

/** The checkpoints and segments to keep. */
export function planRetention(input: RetentionInput): RetentionPlan {
  const keepN = input.policy?.keepCheckpoints ?? DEFAULT_KEEP_CHECKPOINTS;
  if (!Number.isSafeInteger(keepN) || keepN < 1) {
    throw new RangeError(`keepCheckpoints must be a whole number ≥ 1, not ${keepN}`);
  }
  const keepFor = input.policy?.keepFor;
  if (keepFor !== undefined && !(Number.isFinite(keepFor) && keepFor >= 0)) {
    throw new RangeError(`keepFor must be a number of milliseconds ≥ 0, not ${keepFor}`);
  }
  const checkpoints = [...input.checkpoints].sort((a, b) => a - b);
  const segments = [...input.segments].sort((a, b) => a - b);
  const kept = new Set(checkpoints.slice(-keepN));
  if (keepFor !== undefined) {
    const cutoff = (input.now ?? Date.now()) - keepFor;
    const old = (c: number) => {
      const time = input.checkpointTimes?.get(c);
      return time !== undefined && time <= cutoff;
    };
    // Commits younger than the cutoff come after the newest old checkpoint.
    const base = checkpoints.filter(old).at(-1);
    for (const c of checkpoints) if (base === undefined || c >= base) kept.add(c);
  }
  // Spans of seqs whose records must stay: [from, to].
  const spans: Array<[number, number]> = [];
  // No checkpoint yet: the log from the start is all there is, and all of it stays.
  spans.push(kept.size > 0 ? [Math.min(...kept) + 1, Infinity] : [0, Infinity]);
  for (const seq of input.labelled) {
    // The newest checkpoint at or before it (none: the log from the very start).
    const base = checkpoints.filter((c) => c <= seq).at(-1);
    if (base !== undefined) kept.add(base);
    if (base !== seq) spans.push([(base ?? 0) + 1, seq]);
  }
  const keptSegments = segments.filter((first, i) => {
    const last = (segments[i + 1] ?? Infinity) - 1;
    return spans.some(([from, to]) => first <= to && last >= from);
  });
  return {
    checkpoints: checkpoints.filter((c) => kept.has(c)),
    segments: keptSegments,
  };
}
