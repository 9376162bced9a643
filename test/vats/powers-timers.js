// A vat that names the timers in its globals: callbacks run in cranks of its own.
import { Far } from '@endo/far';

export function buildRootObject(_vatPowers, _parameters, baggage) {
  const fired = [];
  return Far('Timers', {
    bootstrap: () => 'ready',
    kinds: () => [typeof setTimeout, typeof setInterval, typeof clearTimeout],
    later(ms) {
      return new Promise((resolve) => {
        setTimeout(
          (a, b) => {
            fired.push('later');
            resolve(a + b);
          },
          ms,
          40,
          2,
        );
      });
    },
    ticks(n) {
      return new Promise((resolve) => {
        let i = 0;
        const id = setInterval(() => {
          i += 1;
          if (i === n) {
            clearInterval(id);
            resolve(i);
          }
        }, 1);
      });
    },
    cancelled() {
      const id = setTimeout(() => fired.push('cancelled one fired'), 0);
      clearTimeout(id);
      return setTimeout(() => fired.push('after cancel'), 5) > id;
    },
    // Returns at once; the callback writes the vatstore in a crank of its own.
    stampLater(value) {
      setTimeout(() => {
        if (baggage.has('stamp')) baggage.set('stamp', value);
        else baggage.init('stamp', value);
      }, 1);
      return 'armed';
    },
    stamp: () => (baggage.has('stamp') ? baggage.get('stamp') : null),
    fired: () => harden([...fired]),
    stringCallback() {
      try {
        setTimeout('1 + 1', 0);
        return 'evaluated';
      } catch (error) {
        return error.message;
      }
    },
  });
}
