// A version 2 whose buildRootObject throws, after writing to baggage.
export function buildRootObject(_vatPowers, _parameters, baggage) {
  baggage.set('count', -2);
  throw Error('version 2 is broken');
}
