// A counter whose other methods hold a delivery open: for faults in mid-delivery.
import { Far } from '@endo/far';

export function buildRootObject(_vatPowers, _parameters, baggage) {
  if (!baggage.has('count')) baggage.init('count', 0);
  const increment = () => {
    const count = baggage.get('count') + 1;
    baggage.set('count', count);
    return count;
  };
  return Far('Looper', {
    bootstrap() {
      return 'ready';
    },
    increment,
    // Never returns: only the kernel's watchdog ends this delivery.
    loop() {
      for (;;) {
        // spin
      }
    },
    // Counts, then stops at a breakpoint if a debugger is attached to the vat's worker:
    // a delivery held open, deterministically, for as long as a test likes. Without a
    // debugger it is an ordinary increment.
    incrementAtBreakpoint() {
      const count = increment();
      // eslint-disable-next-line no-debugger
      debugger;
      return count;
    },
  });
}
