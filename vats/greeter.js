// Bob: makes greeter objects and hands them out by reference.
import { Far } from '@endo/far';
import { makePromiseKit } from '@endo/promise-kit';

export function buildRootObject(_vatPowers, parameters) {
  const name = parameters?.name ?? 'bob';
  const makeGreeter = (greeting) => {
    let greeted = 0;
    return Far('Greeter', {
      greet(who) {
        greeted += 1;
        return `${greeting}, ${who}, from ${name} (#${greeted})`;
      },
    });
  };
  /** Greeters promised by makeGreeterLater, made when release() is called. */
  const promised = [];
  return Far('GreeterMaker', {
    makeGreeter,
    makeGreeterLater(greeting) {
      const { promise, resolve } = makePromiseKit();
      promised.push(() => resolve(makeGreeter(greeting)));
      return promise;
    },
    release() {
      const count = promised.length;
      for (const make of promised.splice(0)) make();
      return count;
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
