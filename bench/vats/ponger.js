// Answers `ping`; optionally writes a value each time.
import { Far } from '@endo/far';

export function buildRootObject(_vatPowers, parameters, baggage) {
  const payload = 'x'.repeat(parameters?.writeBytes ?? 0);
  return Far('Ponger', {
    ping(i) {
      if (payload) {
        if (baggage.has('last')) baggage.set('last', `${i}:${payload}`);
        else baggage.init('last', `${i}:${payload}`);
      }
      return i;
    },
  });
}
