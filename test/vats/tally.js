// The crash test's workload: add(i) must come in order 1, 2, 3, …; each leaves a mark in
// a durable collection, so the state after any prefix of adds can be checked exactly.
import { Far } from '@endo/far';

/* global VatData */
const { makeScalarBigMapStore } = VatData;

export function buildRootObject(_vatPowers, _parameters, baggage) {
  if (!baggage.has('marks')) {
    baggage.init('count', 0);
    baggage.init('marks', makeScalarBigMapStore('marks', { durable: true }));
  }
  const marks = baggage.get('marks');
  return Far('Tally', {
    add(i) {
      const count = baggage.get('count');
      // A message queued before a crash may arrive again from the restarted driver.
      if (i <= count) return count;
      if (i !== count + 1) throw Error(`add(${i}) after ${count}: a crank was lost`);
      marks.init(i, `mark-${i}`);
      baggage.set('count', i);
      return i;
    },
    check() {
      const count = baggage.get('count');
      let ok = marks.getSize() === count;
      for (let i = 1; ok && i <= count; i += 1) ok = marks.get(i) === `mark-${i}`;
      return harden({ count, ok });
    },
  });
}
