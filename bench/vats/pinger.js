// Sends `ping` to the ponger n times, one after another; optionally writes a value each time.
import { E, Far } from '@endo/far';

export function buildRootObject(_vatPowers, parameters, baggage) {
  const payload = 'x'.repeat(parameters?.writeBytes ?? 0);
  return Far('Pinger', {
    async run(ponger, n) {
      for (let i = 0; i < n; i += 1) {
        await E(ponger).ping(i);
        if (payload) {
          if (baggage.has('last')) baggage.set('last', `${i}:${payload}`);
          else baggage.init('last', `${i}:${payload}`);
        }
      }
      return n;
    },
  });
}
