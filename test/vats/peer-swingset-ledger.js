// SwingSet style: a durable exo class from @agoric/vat-data, prepared against baggage
// in every incarnation, its instance provided once.
import { Far } from '@endo/far';
import { M } from '@endo/patterns';
import { prepareExoClass, provide } from '@agoric/vat-data';

const CounterI = M.interface('Counter', { incr: M.call().returns(M.number()) });

export function buildRootObject(_vatPowers, _parameters, baggage) {
  const makeCounter = prepareExoClass(
    baggage,
    'Counter',
    CounterI,
    () => ({ count: 0 }),
    {
      incr() {
        this.state.count += 1;
        return this.state.count;
      },
    },
  );
  const counter = provide(baggage, 'counter', () => makeCounter());
  return Far('Ledger', { getCounter: () => counter });
}
