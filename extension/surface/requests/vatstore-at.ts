import { integer, min, object, optional, size, string } from '@metamask/superstruct';
import { defineMethod, pageLimit } from '../method.ts';
import { decodeVatstoreValue } from './read-vatstore.ts';

const decoded = (value: string | null) => {
  const json = value === null ? undefined : decodeVatstoreValue(value);
  return json === undefined ? {} : { decoded: json };
};

/**
 * What a vat's vatstore held after the commit ending at `crank` (a vat by id or by the
 * name it had then), paged like readVatstore; values decoded the same way. Reads only.
 */
export const vatstoreAt = defineMethod({
  name: 'vatstoreAt',
  params: object({
    crank: min(integer(), 0),
    vat: size(string(), 1, 64),
    prefix: optional(size(string(), 0, 4096)),
    after: optional(size(string(), 0, 4096)),
    limit: pageLimit(100),
  }),
  async handler(hooks, { crank, vat, prefix, after, limit }) {
    const page = await hooks.history.read((r) =>
      r.vatstoreAt(crank, vat, {
        limit,
        ...(prefix === undefined ? {} : { prefix }),
        ...(after === undefined ? {} : { after }),
      }),
    );
    return {
      crank: page.crank,
      vatId: page.vatId,
      entries: page.entries.map(([key, value]) => ({ key, value, ...decoded(value) })),
      more: page.more,
    };
  },
});

/** The retained commits that changed one key of a vat's vatstore, oldest first. */
export const keyHistory = defineMethod({
  name: 'keyHistory',
  params: object({ vat: size(string(), 1, 64), key: size(string(), 1, 4096) }),
  async handler(hooks, { vat, key }) {
    const changes = await hooks.history.read((r) => r.keyHistory(vat, key));
    return { changes: changes.map((c) => ({ ...c, ...decoded(c.value) })) };
  },
});
