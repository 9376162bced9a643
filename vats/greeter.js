// Bob: makes greeter objects and hands them out by reference.
import { Far } from '@endo/far';

export function buildRootObject(_vatPowers, parameters) {
  const name = parameters?.name ?? 'bob';
  return Far('GreeterMaker', {
    makeGreeter(greeting) {
      let greeted = 0;
      return Far('Greeter', {
        greet(who) {
          greeted += 1;
          return `${greeting}, ${who}, from ${name} (#${greeted})`;
        },
      });
    },
    // Returns a promise that this vat settles later, to show promises crossing vats.
    later(value) {
      return Promise.resolve().then(() => value);
    },
    fail(message) {
      throw Error(message);
    },
  });
}
