import { describe, expect, it, vi } from 'vitest';
import {
  makeWatchdogTimer,
  type RealTimer,
} from '../extension/background/watchdog-timer.ts';

/** A manual clock and timer: `advance` runs what comes due, in order. */
function manual(): RealTimer & { advance(ms: number): void; armed(): number } {
  let clock = 0;
  let nextHandle = 0;
  const timers = new Map<number, { at: number; fire: () => void }>();
  return {
    now: () => clock,
    set(ms, fire) {
      const handle = nextHandle++;
      timers.set(handle, { at: clock + ms, fire });
      return handle;
    },
    clear(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      const end = clock + ms;
      for (;;) {
        const next = [...timers.entries()].sort((a, b) => a[1].at - b[1].at)[0];
        if (!next || next[1].at > end) break;
        timers.delete(next[0]);
        clock = next[1].at;
        next[1].fire();
      }
      clock = end;
    },
    armed: () => timers.size,
  };
}

describe("the extension's watchdog timer", () => {
  let real = manual();
  const setTimer = () => {
    real = manual();
    return makeWatchdogTimer(real);
  };
  const advance = (ms: number) => real.advance(ms);

  it('fires a deadline once its time has come, not before', () => {
    const timer = setTimer();
    const fire = vi.fn();
    timer(1_000, fire);
    advance(999);
    expect(fire).not.toHaveBeenCalled();
    advance(1);
    expect(fire).toHaveBeenCalledTimes(1);
    advance(10_000);
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it('never fires a cancelled deadline', () => {
    const timer = setTimer();
    const fire = vi.fn();
    timer(1_000, fire)();
    advance(5_000);
    expect(fire).not.toHaveBeenCalled();
  });

  it('fires a later deadline after an earlier one was cancelled', () => {
    const timer = setTimer();
    const first = vi.fn();
    const second = vi.fn();
    const cancel = timer(1_000, first);
    advance(500);
    timer(1_000, second); // due at 1,500
    cancel();
    advance(999);
    expect(second).not.toHaveBeenCalled();
    advance(1);
    expect(second).toHaveBeenCalledTimes(1);
    expect(first).not.toHaveBeenCalled();
  });

  it('fires an earlier deadline armed after a later one, on time', () => {
    const timer = setTimer();
    const late = vi.fn();
    const early = vi.fn();
    timer(10_000, late);
    timer(100, early);
    advance(100);
    expect(early).toHaveBeenCalledTimes(1);
    expect(late).not.toHaveBeenCalled();
    advance(9_900);
    expect(late).toHaveBeenCalledTimes(1);
  });

  it('keeps one real timer armed while deadlines stream in and are cancelled', () => {
    const timer = setTimer();
    const fire = vi.fn();
    for (let i = 0; i < 1_000; i += 1) {
      const cancel = timer(30_000, fire);
      advance(1);
      cancel();
    }
    expect(real.armed()).toBe(1);
    advance(60_000);
    expect(fire).not.toHaveBeenCalled();
    expect(real.armed()).toBe(0);
  });
});
