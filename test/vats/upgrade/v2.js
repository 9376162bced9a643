// Version 2: redefines the durable kind (with a new method) and reads what version 1
// left in baggage.
import { Far } from '@endo/far';

/* global VatData */
const { defineDurableKind } = VatData;

export function buildRootObject(_vatPowers, parameters, baggage) {
  defineDurableKind(baggage.get('thingKind'), (label) => ({ label }), {
    label: ({ state }) => state.label,
    version: () => 2,
    shout: ({ state }) => state.label.toUpperCase(),
  });
  const things = baggage.get('things');
  return Far('Subject', {
    version: () => 2,
    parameters: () => parameters,
    bump() {
      baggage.set('count', baggage.get('count') + 10);
      return baggage.get('count');
    },
    count: () => baggage.get('count'),
    thing: (label) => things.get(label),
    labels: () => harden([...things.keys()]),
  });
}
