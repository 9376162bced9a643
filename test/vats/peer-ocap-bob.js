// ocap-kernel style: an exo root serving an async generator to other vats as a remote
// iterator, and promises resolved to each other.
import { Far } from '@endo/far';
import { makeExo } from '@endo/exo';
import { M } from '@endo/patterns';
import { makePromiseKit } from '@endo/promise-kit';

const RootI = M.interface('BobRoot', {}, { defaultGuards: 'passable' });

async function* counting(n) {
  for (let i = 0; i < n; i += 1) yield i;
}

export function buildRootObject() {
  return makeExo('root', RootI, {
    countTo(n) {
      const generator = counting(n);
      return Far('RemoteIterator', {
        next: () => generator.next(),
      });
    },
    cycle() {
      const a = makePromiseKit();
      const b = makePromiseKit();
      a.resolve(harden({ name: 'a', other: b.promise }));
      b.resolve(harden({ name: 'b', other: a.promise }));
      return harden({ a: a.promise });
    },
    hello: (from) => `hello ${from}, from bob's bundle`,
  });
}
