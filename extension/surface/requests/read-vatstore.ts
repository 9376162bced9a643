import { object, optional, size, string } from '@metamask/superstruct';
import { capdataToJson } from '../../../kernel/index.ts';
import { defineMethod, pageLimit, SurfaceError } from '../method.ts';

/**
 * A value that is marshalled data (liveslots stores capdata `{"body":"#…","slots":[…]}`)
 * decoded to JSON, references as `{ "$kref": vref }`; undefined for anything else.
 */
export function decodeVatstoreValue(value: string): unknown {
  if (!value.startsWith('{"body":"#')) return undefined;
  try {
    const data = JSON.parse(value) as { body?: unknown; slots?: unknown };
    if (typeof data.body !== 'string' || !Array.isArray(data.slots)) return undefined;
    return capdataToJson({ body: data.body, slots: data.slots as string[] });
  } catch {
    return undefined;
  }
}

/**
 * One page of a vat's vatstore, in key order: keys after `after` (exclusive) that start
 * with `prefix`. Never more than 1,000 rows a page, so a 100k-key vatstore stays cheap.
 * Values that are marshalled data come decoded too.
 */
export const readVatstore = defineMethod({
  name: 'readVatstore',
  params: object({
    vatId: size(string(), 1, 32),
    prefix: optional(size(string(), 0, 4096)),
    after: optional(size(string(), 0, 4096)),
    limit: pageLimit(100),
  }),
  async handler(hooks, { vatId, prefix, after, limit }) {
    const { kernel } = await hooks.host();
    if (!kernel.state.getVat(vatId)) throw new SurfaceError(`no vat ${vatId}`);
    const page = kernel.state.readVatstore(vatId, {
      limit,
      ...(prefix === undefined ? {} : { prefix }),
      ...(after === undefined ? {} : { after }),
    });
    return {
      entries: page.entries.map(([key, value]) => {
        const decoded = decodeVatstoreValue(value);
        return decoded === undefined ? { key, value } : { key, value, decoded };
      }),
      more: page.more,
    };
  },
});
