// A vat whose code is well behaved; the tests corrupt its replies on the wire.
import { E, Far } from '@endo/far';

export function buildRootObject(_vatPowers, _parameters, baggage) {
  return Far('Mallory', {
    touch(counter, mark) {
      baggage.init(`mark-${mark}`, mark);
      E.sendOnly(counter).increment();
      return mark;
    },
    ping: () => 'pong',
  });
}
