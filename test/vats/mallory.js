// A vat whose code is well behaved; the tests corrupt its replies on the wire.
import { E, Far } from '@endo/far';

export function buildRootObject(_vatPowers, _parameters, baggage) {
  return Far('Mallory', {
    touch(counter, mark) {
      baggage.init(`mark-${mark}`, mark);
      // Not E.sendOnly: liveslots 0.11 drops a sendOnly to a presence (see docs/faults.md).
      void E(counter).increment();
      return mark;
    },
    ping: () => 'pong',
  });
}
