// A vat in ocap-kernel's style (after its kernel-test vats): an exo root with
// bootstrap(vats, services), an async generator consumed across vats, promises that
// refer to each other, a vat created through a service, and a count kept in baggage.
import { E } from '@endo/far';
import { makeExo } from '@endo/exo';
import { M } from '@endo/patterns';

const RootI = M.interface('AliceRoot', {}, { defaultGuards: 'passable' });

/** A remote iterator (`next()` on a presence) as an async iterable. */
async function* fromRemote(iteratorP) {
  for (;;) {
    const { done, value } = await E(iteratorP).next();
    if (done) return;
    yield value;
  }
}

export function buildRootObject(vatPowers, parameters, baggage) {
  const log = vatPowers.logger?.subLogger({ tags: ['alice'] });
  if (!baggage.has('runs')) baggage.init('runs', 0);
  return makeExo('root', RootI, {
    async bootstrap(vats, services) {
      log?.log('bootstrap', parameters.name);
      baggage.set('runs', baggage.get('runs') + 1);
      const seen = [];
      for await (const value of fromRemote(E(vats.bob).countTo(3))) seen.push(value);
      const { a } = await E(vats.bob).cycle();
      const first = await a;
      const second = await first.other;
      const { root: carol } = await E(services.vatAdmin).createVat(
        { bundleName: 'bob' },
        { name: 'carol' },
      );
      return {
        streamed: seen,
        cycle: [first.name, second.name, (await second.other).name],
        carol: await E(carol).hello('alice'),
      };
    },
    runs: () => baggage.get('runs'),
  });
}
