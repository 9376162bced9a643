// Keeps what it is given, under a key: for tests that need the kernel to write a lot.
import { Far } from '@endo/far';

export function buildRootObject(_vatPowers, _parameters, baggage) {
  return Far('Keeper', {
    bootstrap() {
      return 'ready';
    },
    put(key, value) {
      if (baggage.has(key)) baggage.set(key, value);
      else baggage.init(key, value);
      return value.length;
    },
    get(key) {
      return baggage.has(key) ? baggage.get(key) : undefined;
    },
  });
}
