// A vat whose method throws; the vat itself must keep running.
import { Far } from '@endo/far';

export function buildRootObject() {
  let calls = 0;
  return Far('Thrower', {
    boom(message) {
      calls += 1;
      throw Error(message);
    },
    calls: () => calls,
  });
}
