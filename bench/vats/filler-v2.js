// Version 2 of bench/vats/filler.js for the upgrade benchmark: the same durable store,
// read from baggage, and a version to tell the two apart.
import { Far } from '@endo/far';

export function buildRootObject(_vatPowers, _parameters, baggage) {
  const entries = baggage.get('entries');
  return Far('Filler', {
    version: () => 2,
    size: () => entries.getSize(),
  });
}
