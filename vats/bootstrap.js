// The default cluster's bootstrap vat: exercises every sample vat once and reports.
import { E, Far } from '@endo/far';

export function buildRootObject() {
  return Far('Bootstrap', {
    async bootstrap(vats) {
      const { alice, bob, carol, counter, ledger } = vats;
      await E(counter).increment();
      const count = await E(counter).increment();
      const introduced = await E(alice).introduce(bob, carol, 'Hello');
      const pipelined = await E(alice).pipeline(bob, 'Hi', 'dave');
      const relayed = await E(alice).relay(bob, carol, 42);
      const caught = await E(alice).relayRejection(bob, carol, 'no such thing');
      await E(ledger).deposit('alice', 100);
      await E(ledger).withdraw('alice', 30);
      await E(ledger).deposit('bob', 5);
      const balances = await E(ledger).balances();
      return harden({
        count,
        introduced,
        pipelined,
        relayed,
        caught,
        balances: { alice: `${balances.alice}`, bob: `${balances.bob}` },
      });
    },
  });
}
