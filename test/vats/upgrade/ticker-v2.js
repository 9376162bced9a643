// Version 2 of ticker-v1.js: arms a timer of its own as it starts.
import { Far } from '@endo/far';

export function buildRootObject(_vatPowers, _parameters, baggage) {
  const note = (line) =>
    baggage.set('journal', harden([...baggage.get('journal'), line]));
  setTimeout(() => note('v2:started'), 100);
  return Far('Ticker', {
    arm(name, ms) {
      setTimeout(() => note(`v2:${name}`), ms);
      return 'armed';
    },
    journal: () => baggage.get('journal'),
  });
}
