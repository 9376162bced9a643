// Writes, overwrites and deletes baggage entries, to check the crank delta.
import { Far } from '@endo/far';

export function buildRootObject(_vatPowers, _parameters, baggage) {
  return Far('StoreOps', {
    setUp() {
      baggage.init('kept', 'old');
      baggage.init('doomed', 'x');
      baggage.init('same', 'v');
    },
    churn() {
      baggage.set('kept', 'new'); // overwrite
      baggage.set('kept', 'newer'); // and again
      baggage.init('temp', 'short-lived'); // created ...
      baggage.delete('temp'); // ... and deleted in the same crank
      baggage.delete('doomed'); // existed before
      baggage.set('same', 'w');
      baggage.set('same', 'v'); // back to where it was
    },
    read: () => harden([...baggage.keys()]),
  });
}
