// A version 2 that does not define the durable kind version 1 made: liveslots refuses
// to start it.
import { Far } from '@endo/far';

export function buildRootObject(_vatPowers, _parameters, baggage) {
  baggage.set('count', -1);
  return Far('Subject', { version: () => 'forgot' });
}
