// A SwingSet-style vat: durable kinds and collections from @agoric/vat-data, kept in
// baggage, so its state outlives its worker.
import { Far } from '@endo/far';
import { M } from '@endo/patterns';
import {
  makeScalarBigMapStore,
  prepareExoClass,
  prepareKind,
  provide,
} from '@agoric/vat-data';

const CounterI = M.interface('Counter', {
  incr: M.call().returns(M.number()),
  read: M.call().returns(M.number()),
});

export function buildRootObject(vatPowers, _parameters, baggage) {
  const makeCounter = prepareExoClass(
    baggage,
    'Counter',
    CounterI,
    (start) => ({ count: start }),
    {
      incr() {
        this.state.count += 1;
        return this.state.count;
      },
      read() {
        return this.state.count;
      },
    },
  );
  const makeNote = prepareKind(baggage, 'Note', (text) => ({ text }), {
    text: ({ state }) => state.text,
  });
  const counter = provide(baggage, 'counter', () => makeCounter(10));
  const notes = provide(baggage, 'notes', () =>
    makeScalarBigMapStore('notes', { durable: true }),
  );
  const incarnations = provide(baggage, 'incarnations', () => 0) + 1;
  baggage.set('incarnations', incarnations);
  vatPowers.testLog(`incarnation ${incarnations}`);
  return Far('root', {
    bootstrap() {},
    incr: () => counter.incr(),
    read: () => counter.read(),
    note(key, text) {
      notes.init(key, makeNote(text));
      return notes.getSize();
    },
    notes: () => [...notes.entries()].map(([key, note]) => [key, note.text()]),
    incarnations: () => baggage.get('incarnations'),
  });
}
