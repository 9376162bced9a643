// A vat for the daemon's tests. Its heap (a count, cells, promises it holds) lives only
// as long as its incarnation: a daemon keeps it up between commands, a command that
// opens the data directory itself restarts it. `tally` and notes are durable.
import { E, Far } from '@endo/far';
import { makePromiseKit } from '@endo/promise-kit';

/* global VatData */
const { defineDurableKind, makeKindHandle } = VatData;

export function buildRootObject(_vatPowers, _parameters, baggage) {
  let count = 0;
  const held = [];
  const watchers = [];
  if (!baggage.has('tally')) {
    baggage.init('tally', 0);
    baggage.init('noteKind', makeKindHandle('Note'));
  }
  const makeNote = defineDurableKind(baggage.get('noteKind'), (text) => ({ text }), {
    read: ({ state }) => state.text,
  });
  const tellWatchers = () => {
    for (const w of watchers.splice(0)) {
      if (held.length >= w.n) w.kit.resolve(held.length);
      else watchers.push(w);
    }
  };
  return Far('HeapCounter', {
    bootstrap: () => 'ready',
    // On the heap: lost when the vat restarts.
    increment: () => {
      count += 1;
      return count;
    },
    // In baggage: kept.
    tally: () => {
      const next = baggage.get('tally') + 1;
      baggage.set('tally', next);
      return next;
    },
    makeCell: (label) => {
      let value = 0;
      return Far('Cell', {
        label: () => label,
        bump: () => {
          value += 1;
          return value;
        },
      });
    },
    makeNote: (text) => makeNote(text),
    describe: (thing) => E(thing).label(),
    // A result this vat decides later, when asked to (settleHeld).
    hold: () => {
      const kit = makePromiseKit();
      held.push(kit);
      tellWatchers();
      return kit.promise;
    },
    whenHeld: (n) => {
      if (held.length >= n) return held.length;
      const kit = makePromiseKit();
      watchers.push({ n, kit });
      return kit.promise;
    },
    heldCount: () => held.length,
    settleHeld: (value) => {
      const kits = held.splice(0);
      for (const kit of kits) kit.resolve(value);
      return kits.length;
    },
  });
}
