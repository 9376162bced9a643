// A bootstrap vat in SwingSet's style: E() pipelining (a message to the result of a
// message not yet answered), durable exos from @agoric/vat-data kept in baggage.
import { E, Far } from '@endo/far';

export function buildRootObject(_vatPowers, _parameters, baggage) {
  return Far('root', {
    async bootstrap(vats) {
      if (!baggage.has('ledger')) baggage.init('ledger', vats.ledger);
      // Pipelined: increment goes to the counter before getCounter has answered.
      const counter = E(vats.ledger).getCounter();
      const first = await E(counter).incr();
      const second = await E(E(vats.ledger).getCounter()).incr();
      return [first, second];
    },
    bump: () => E(E(baggage.get('ledger')).getCounter()).incr(),
    // SwingSet code sends what it needs no answer to with E.sendOnly.
    async poke() {
      const counter = await E(baggage.get('ledger')).getCounter();
      E.sendOnly(counter).incr();
      return 'sent';
    },
  });
}
