// Hands out objects: heap ones (gone with the worker) and durable ones (kept in the
// vatstore), so tests can hold what a call returned and call it later.
import { Far } from '@endo/far';

/* global VatData */
const { makeKindHandle, defineDurableKind } = VatData;

export function buildRootObject(_vatPowers, _parameters, baggage) {
  if (!baggage.has('thingKind')) baggage.init('thingKind', makeKindHandle('Thing'));
  const makeThing = defineDurableKind(
    baggage.get('thingKind'),
    (name) => ({ name, count: 0 }),
    {
      increment({ state }) {
        state.count += 1;
        return state.count;
      },
      name({ state }) {
        return state.name;
      },
    },
  );
  return Far('Maker', {
    bootstrap: () => 'ready',
    makeThing: (name) => makeThing(name),
    makeHeapThing(name) {
      let count = 0;
      return Far('HeapThing', {
        increment: () => (count += 1),
        name: () => name,
      });
    },
    nameOf: (thing) => thing.name(),
  });
}
