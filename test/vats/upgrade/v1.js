// Version 1 of a vat the upgrade tests replace: a durable kind with instances in
// baggage, a count, a heap-only export, a virtual (non-durable) export, and a promise
// it decides and never settles.
import { Far } from '@endo/far';
import { makePromiseKit } from '@endo/promise-kit';

/* global VatData */
const { defineDurableKind, defineKind, makeKindHandle, makeScalarBigMapStore } = VatData;

const pending = [];

export function buildRootObject(_vatPowers, parameters, baggage) {
  if (!baggage.has('thingKind')) {
    baggage.init('thingKind', makeKindHandle('Thing'));
    baggage.init('things', makeScalarBigMapStore('things', { durable: true }));
    baggage.init('count', 0);
  }
  const makeThing = defineDurableKind(baggage.get('thingKind'), (label) => ({ label }), {
    label: ({ state }) => state.label,
    version: () => 1,
  });
  const makeVirtual = defineKind('Virtual', () => ({}), { hello: () => 'virtual' });
  const things = baggage.get('things');
  return Far('Subject', {
    version: () => 1,
    parameters: () => parameters,
    bump() {
      baggage.set('count', baggage.get('count') + 1);
      return baggage.get('count');
    },
    count: () => baggage.get('count'),
    addThing(label) {
      const thing = makeThing(label);
      things.init(label, thing);
      return thing;
    },
    labels: () => harden([...things.keys()]),
    heapObject: () => Far('Heap', { hello: () => 'heap' }),
    virtualObject: () => makeVirtual(),
    // Decided by this version; an upgrade rejects it.
    never() {
      const kit = makePromiseKit();
      pending.push(kit);
      return kit.promise;
    },
  });
}
