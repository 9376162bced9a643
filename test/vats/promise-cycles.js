// Promises that refer to each other: resolved in one crank (`cycleNow`), built across
// cranks and vats (`hold` / `settle` / `follow`), and a promise resolved to a record
// holding itself (`selfish`).
import { E, Far } from '@endo/far';
import { makePromiseKit } from '@endo/promise-kit';

export function buildRootObject() {
  let held;
  return Far('Cycles', {
    bootstrap() {
      return 'ready';
    },
    cycleNow() {
      const a = makePromiseKit();
      const b = makePromiseKit();
      a.resolve(harden({ name: 'a', other: b.promise }));
      b.resolve(harden({ name: 'b', other: a.promise }));
      return harden({ a: a.promise, b: b.promise });
    },
    // An unresolved promise this vat decides, handed out now and settled later.
    hold() {
      held = makePromiseKit();
      return harden({ p: held.promise });
    },
    settle(name, other) {
      held.resolve(harden({ name, other }));
    },
    // Resolves its result to a record naming `p`, a promise another vat decides.
    wrap(name, p) {
      return harden({ name, other: p });
    },
    selfish() {
      const kit = makePromiseKit();
      kit.resolve(harden({ name: 'self', me: kit.promise }));
      return harden({ p: kit.promise });
    },
    // Walks `steps` hops of `.other` from `start`, returning the names it met.
    async follow(start, steps) {
      const names = [];
      let at = await start;
      for (let i = 0; i < steps; i += 1) {
        names.push(at.name);
        at = await at.other;
      }
      return names;
    },
    async peer(other) {
      const { a } = await E(other).cycleNow();
      return E(other).follow(a, 5);
    },
    // pa (decided by `other`) resolves naming pb (decided here), and a later crank
    // resolves pb naming pa: a cycle built across cranks and vats.
    async crossCycle(other) {
      const { p: pa } = await E(other).hold();
      const pb = makePromiseKit();
      await E(other).settle('a', pb.promise);
      pb.resolve(harden({ name: 'b', other: pa }));
      return E(other).follow(pa, 5);
    },
    async selfishPeer(other) {
      const { p } = await E(other).selfish();
      const v = await p;
      const again = await v.me;
      return [v.name, again.name, again === v];
    },
  });
}
