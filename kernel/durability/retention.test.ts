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

  it('keeps what commits younger than keepFor need: the newest old checkpoint on', () => {
    const checkpointTimes = new Map([
      [10, 1_000],
      [20, 2_000],
      [30, 3_000],
      [40, 4_000],
    ]);
    const plan = (now: number, times = checkpointTimes) =>
      planRetention({
        checkpoints: [10, 20, 30, 40],
        segments: [1, 11, 21, 31, 41],
        labelled: [],
        policy: { keepCheckpoints: 1, keepFor: 1_500 },
        checkpointTimes: times,
        now,
      });
    // Younger than 1.5 s at 4.2 s: from 2.7 s on, which needs checkpoint 20.
    expect(plan(4_200)).toEqual({ checkpoints: [20, 30, 40], segments: [21, 31, 41] });
    expect(plan(10_000)).toEqual({ checkpoints: [40], segments: [41] });
    // Nothing old enough yet: everything stays.
    expect(plan(2_000).checkpoints).toEqual([10, 20, 30, 40]);
    // A checkpoint of unknown time counts young.
    expect(plan(10_000, new Map([[10, 1_000]])).checkpoints).toEqual([10, 20, 30, 40]);
  });

  it('refuses a keepFor that is not a number of milliseconds', () => {
    expect(() =>
      planRetention({
        checkpoints: [1],
        segments: [2],
        labelled: [],
        policy: { keepFor: -1 },
      }),
    ).toThrow('keepFor must be a number of milliseconds ≥ 0, not -1');
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
