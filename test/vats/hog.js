// A vat that allocates until its worker runs out of memory.
import { Far } from '@endo/far';

export function buildRootObject() {
  return Far('Hog', {
    hog() {
      const kept = [];
      for (;;) kept.push(new Array(1_000_000).fill(kept.length));
    },
    ping: () => 'pong',
  });
}
