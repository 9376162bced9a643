// A durable map in baggage, to grow a vatstore and walk it in order (paged vatstores).
import { Far } from '@endo/far';
import { makeScalarBigMapStore, provide } from '@agoric/vat-data';

export function buildRootObject(_vatPowers, _parameters, baggage) {
  const entries = provide(baggage, 'entries', () =>
    makeScalarBigMapStore('entries', { durable: true }),
  );
  return Far('Collector', {
    bootstrap() {},
    fill(count, prefix = 'k', bytes = 20) {
      for (let i = 0; i < count; i += 1) {
        const key = `${prefix}${String(i).padStart(6, '0')}`;
        const value = `${i}:${'x'.repeat(bytes)}`;
        if (entries.has(key)) entries.set(key, value);
        else entries.init(key, value);
      }
    },
    put(key, value) {
      if (entries.has(key)) entries.set(key, value);
      else entries.init(key, value);
    },
    get: (key) => (entries.has(key) ? entries.get(key) : null),
    remove(key) {
      entries.delete(key);
    },
    keys: () => harden([...entries.keys()]),
    size: () => entries.getSize(),
  });
}
