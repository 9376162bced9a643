// Arms setTimeout callbacks that write to a journal in baggage, for the tests of heap
// timers across an upgrade.
import { Far } from '@endo/far';

export function buildRootObject(_vatPowers, _parameters, baggage) {
  if (!baggage.has('journal')) baggage.init('journal', harden([]));
  const note = (line) =>
    baggage.set('journal', harden([...baggage.get('journal'), line]));
  return Far('Ticker', {
    arm(name, ms) {
      setTimeout(() => note(`v1:${name}`), ms);
      return 'armed';
    },
    journal: () => baggage.get('journal'),
  });
}
