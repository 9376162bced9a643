import { describe, expect, it } from 'vitest';
import { planRetention } from './retention.ts';

describe('planRetention', () => {
  it('keeps the newest checkpoints and the log from the oldest of them on', () => {
    expect(
      planRetention({
        checkpoints: [10, 20, 30],
        segments: [1, 11, 21, 31],
        labelled: [],
      }),
    ).toEqual({ checkpoints: [20, 30], segments: [21, 31] });
  });

  it('keeps a labelled commit: its checkpoint and the log up to it', () => {
    expect(
      planRetention({
        checkpoints: [10, 20, 30],
        segments: [1, 11, 21, 31],
        labelled: [15],
        policy: { keepCheckpoints: 1 },
      }),
    ).toEqual({ checkpoints: [10, 30], segments: [11, 31] });
  });

  it('keeps the log from the start for a label before the first checkpoint', () => {
    expect(
      planRetention({
        checkpoints: [10, 20],
        segments: [1, 11, 21],
        labelled: [4],
        policy: { keepCheckpoints: 1 },
      }),
    ).toEqual({ checkpoints: [20], segments: [1, 21] });
  });

  it('keeps a segment a checkpoint taken at close sits in the middle of', () => {
    // Checkpoint 15 was written at close: segment 11 holds 11…24, and 16… is needed.
    expect(
      planRetention({ checkpoints: [10, 15, 25], segments: [1, 11, 26], labelled: [] }),
    ).toEqual({ checkpoints: [15, 25], segments: [11, 26] });
  });

  it('refuses a policy that keeps no checkpoint', () => {
    expect(() =>
      planRetention({
        checkpoints: [1],
        segments: [2],
        labelled: [],
        policy: { keepCheckpoints: 0 },
      }),
    ).toThrow('keepCheckpoints must be a whole number ≥ 1, not 0');
  });
});
