// A vat that looks for ways out of its Compartment and reports what it found.
import { Far } from '@endo/far';

const reach = (read) => {
  try {
    const value = read();
    return value === undefined ? 'undefined' : typeof value;
  } catch (error) {
    return `threw ${error.name}`;
  }
};

export function buildRootObject(_vatPowers, _parameters, baggage) {
  if (!baggage.has('secret')) baggage.init('secret', 'prober only');
  return Far('Prober', {
    // What the vat's global scope offers, directly and through the Function constructor
    // (which, in a Compartment, evaluates in the same confined scope).
    probe() {
      const names = [
        'chrome',
        'browser',
        'indexedDB',
        'fetch',
        'parent',
        'top',
        'window',
        'document',
        'localStorage',
        'XMLHttpRequest',
        'Worker',
        'frames',
        'opener',
      ];
      const direct = Object.fromEntries(
        names.map((n) => [n, reach(() => globalThis[n])]),
      );
      const viaFunction = Object.fromEntries(
        names.map((n) => [n, reach(() => Function(`return globalThis.${n}`)())]),
      );
      return harden({ direct, viaFunction });
    },
    // Attempts to tamper with the intrinsics it shares with its supervisor; each must fail.
    tamper() {
      const attempts = {
        objectPrototype: () => {
          Object.prototype.polluted = true;
        },
        arrayPrototype: () => {
          Array.prototype.push = () => 0;
        },
      };
      return harden(
        Object.fromEntries(
          Object.entries(attempts).map(([name, attempt]) => {
            try {
              attempt();
              return [name, 'succeeded'];
            } catch (error) {
              return [name, `blocked: ${error.name}`];
            }
          }),
        ),
      );
    },
    ping: () => 'pong',
  });
}
