// Keeps values of a given size in baggage, to grow a vatstore (history's space tests).
import { Far } from '@endo/far';

export function buildRootObject(_vatPowers, _parameters, baggage) {
  return Far('Filler', {
    // `tag` makes each value new (an unchanged value writes nothing).
    fill(key, bytes, tag = '') {
      const value = `${tag}${'x'.repeat(bytes)}`;
      if (baggage.has(key)) baggage.set(key, value);
      else baggage.init(key, value);
    },
  });
}
