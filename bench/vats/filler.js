// Fills a durable MapStore with many entries of a given size: one vatstore key each.
import { Far } from '@endo/far';

/* global VatData */
const { makeScalarBigMapStore } = VatData;

export function buildRootObject(_vatPowers, _parameters, baggage) {
  if (!baggage.has('entries')) {
    baggage.init('entries', makeScalarBigMapStore('entries', { durable: true }));
  }
  const entries = baggage.get('entries');
  return Far('Filler', {
    fill(from, count, bytes) {
      const value = 'x'.repeat(bytes);
      for (let i = from; i < from + count; i += 1) entries.init(i, value);
      return entries.getSize();
    },
    touch(i) {
      entries.set(i, `${entries.get(i)}`.slice(1) + 'y');
      return i;
    },
    size: () => entries.getSize(),
    version: () => 1,
  });
}
