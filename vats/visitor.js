// Carol: uses object references and promises that other vats hand her.
import { E, Far } from '@endo/far';

export function buildRootObject(_vatPowers, parameters) {
  const name = parameters?.name ?? 'carol';
  /** Objects handed to keep(), held on the heap (so they do not survive a restart). */
  const kept = [];
  return Far('Visitor', {
    // Gets a greeter from `maker` and keeps it.
    async keepGreeter(maker, greeting) {
      const greeter = await E(maker).makeGreeter(greeting);
      kept.push(greeter);
      return E(greeter).greet(name);
    },
    // `greeter` is an object from another vat, passed here by reference.
    visit(greeter) {
      return E(greeter).greet(name);
    },
    // `promise` is a promise another vat decides; we wait for it here.
    async awaitIt(promise) {
      const value = await promise;
      return `${name} saw ${value}`;
    },
    async catchIt(promise) {
      try {
        await promise;
        return 'no error';
      } catch (error) {
        return `${name} caught: ${error.message}`;
      }
    },
  });
}
