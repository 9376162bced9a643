// A counter that keeps its count in baggage, so it survives restarts and upgrades.
import { Far } from '@endo/far';

export function buildRootObject(_vatPowers, parameters, baggage) {
  if (!baggage.has('count')) {
    baggage.init('count', parameters?.start ?? 0);
  }
  return Far('Counter', {
    // Called once, when the counter is the cluster's bootstrap vat.
    bootstrap() {
      return baggage.get('count');
    },
    increment(by = 1) {
      const count = baggage.get('count') + by;
      baggage.set('count', count);
      return count;
    },
    getCount() {
      return baggage.get('count');
    },
  });
}
