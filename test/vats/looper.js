// A vat with a method that never ends, and a count in baggage to show its state is kept.
import { Far } from '@endo/far';

export function buildRootObject(_vatPowers, _parameters, baggage) {
  if (!baggage.has('count')) baggage.init('count', 0);
  return Far('Looper', {
    bump() {
      const count = baggage.get('count') + 1;
      baggage.set('count', count);
      return count;
    },
    spin() {
      baggage.set('count', -1); // never committed: the crank is rolled back
      for (;;) {
        // The watchdog ends this.
      }
    },
    count: () => baggage.get('count'),
  });
}
