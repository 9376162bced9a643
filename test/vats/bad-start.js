// A vat whose buildRootObject throws, or never returns, when its parameters say so.
import { Far } from '@endo/far';

export function buildRootObject(_vatPowers, parameters) {
  if (parameters?.fail) throw Error('it was told to fail');
  if (parameters?.spin) for (;;);
  return Far('Fine', { ping: () => 'pong' });
}
