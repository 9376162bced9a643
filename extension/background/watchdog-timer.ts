/**
 * The kernel's `setTimer` in the service worker: the watchdog's deadlines (one per
 * delivery, cancelled when the vat replies) without a setTimeout and a clearTimeout per
 * crank. Here those two cost about 30–60 µs a crank, a twentieth of a small crank's
 * work in the worker (`npm run bench -- extension-hop`).
 *
 * Deadlines are kept in a map; one real timer is armed for the earliest of them.
 * Cancelling only forgets the deadline: the real timer may fire with nothing due, and
 * is then armed for the earliest deadline left. A deadline later than the armed timer
 * (the usual case: each delivery's comes after the last one's) arms nothing, so while
 * cranks stream the real timer is set about once per deadline period, not per crank.
 * A deadline fires no sooner than asked, and as late as setTimeout makes it.
 */
export interface RealTimer {
  now(): number;
  set(ms: number, fire: () => void): unknown;
  clear(handle: unknown): void;
}

const realm: RealTimer = {
  now: () => performance.now(),
  set: (ms, fire) => setTimeout(fire, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** @param real - the clock and timer underneath (tests bring a manual one) */
export function makeWatchdogTimer(
  real: RealTimer = realm,
): (ms: number, fire: () => void) => () => void {
  const { now } = real;
  const deadlines = new Map<number, { at: number; fire: () => void }>();
  let nextId = 0;
  let timer: unknown;
  /** When the armed timer fires (Infinity: none armed). */
  let timerAt = Infinity;

  const arm = (at: number) => {
    if (timer !== undefined) real.clear(timer);
    timerAt = at;
    timer = real.set(Math.max(0, at - now()), ring);
  };

  const ring = () => {
    timer = undefined;
    timerAt = Infinity;
    const t = now();
    const due: Array<() => void> = [];
    let earliest = Infinity;
    for (const [id, deadline] of deadlines) {
      if (deadline.at <= t) {
        deadlines.delete(id);
        due.push(deadline.fire);
      } else earliest = Math.min(earliest, deadline.at);
    }
    if (earliest < Infinity) arm(earliest);
    for (const fire of due) fire();
  };

  return (ms, fire) => {
    const id = nextId++;
    const at = now() + ms;
    deadlines.set(id, { at, fire });
    if (at < timerAt) arm(at);
    return () => {
      deadlines.delete(id);
    };
  };
}
