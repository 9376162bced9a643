import {
  defaulted,
  integer,
  object,
  optional,
  size,
  string,
} from '@metamask/superstruct';
import { defineMethod, SurfaceError } from '../method.ts';

/**
 * One page of a vat's vatstore, in key order: keys after `after` (exclusive) that start
 * with `prefix`. Never more than 1,000 rows a page, so a 100k-key vatstore stays cheap.
 */
export const readVatstore = defineMethod({
  name: 'readVatstore',
  params: object({
    vatId: size(string(), 1, 32),
    prefix: optional(size(string(), 0, 4096)),
    after: optional(size(string(), 0, 4096)),
    limit: defaulted(size(integer(), 1, 1000), 100),
  }),
  async handler(hooks, { vatId, prefix, after, limit }) {
    const { kernel } = await hooks.host();
    if (!kernel.state.getVat(vatId)) throw new SurfaceError(`no vat ${vatId}`);
    return kernel.state.readVatstore(vatId, {
      limit,
      ...(prefix === undefined ? {} : { prefix }),
      ...(after === undefined ? {} : { after }),
    });
  },
});
