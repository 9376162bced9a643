// Counts increments and how many times each one (by id) ran: for exactly-once checks.
import { Far } from '@endo/far';

export function buildRootObject(_vatPowers, _parameters, baggage) {
  if (!baggage.has('count')) baggage.init('count', 0);
  return Far('Tally', {
    bootstrap() {
      return 'ready';
    },
    increment(id) {
      const count = baggage.get('count') + 1;
      baggage.set('count', count);
      const key = `ran:${id}`;
      if (baggage.has(key)) baggage.set(key, baggage.get(key) + 1);
      else baggage.init(key, 1);
      return count;
    },
    // The count, and how many times each of `ids` ran.
    report(ids) {
      const runs = ids.map((id) => {
        const key = `ran:${id}`;
        return baggage.has(key) ? baggage.get(key) : 0;
      });
      return harden({ count: baggage.get('count'), runs });
    },
  });
}
