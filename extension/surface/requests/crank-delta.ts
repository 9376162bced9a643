import { integer, min, object } from '@metamask/superstruct';
import { defineMethod, SurfaceError } from '../method.ts';
import { decodeVatstoreValue } from './read-vatstore.ts';

/** Values longer than this are sent cut (the decoded value is made from the whole). */
const MAX_VALUE = 4096;

const cut = (value: string): string =>
  value.length > MAX_VALUE
    ? `${value.slice(0, MAX_VALUE)}… (${value.length} characters in all)`
    : value;

/** A value as sent: raw (cut), and decoded when it is marshalled data. */
function shown(value: string | null): { raw: string | null; decoded?: unknown } {
  if (value === null) return { raw: null };
  const decoded = decodeVatstoreValue(value);
  return decoded === undefined ? { raw: cut(value) } : { raw: cut(value), decoded };
}

/**
 * What one crank changed in its vat's vatstore: each key's old and new value, raw and
 * (for marshalled data, as readVatstore) decoded. A crank of this boot comes from the
 * worker's memory; an older one from the durable crank log (`from: 'log'`; written with
 * other cranks as one record, its delta is the record's for that vat, `group`).
 */
export const crankDelta = defineMethod({
  name: 'crankDelta',
  params: object({ crank: min(integer(), 1) }),
  async handler(hooks, { crank }) {
    await hooks.host();
    const recent = hooks.inspector().crankDelta(crank);
    const delta = recent
      ? { ...recent, from: 'memory' as const, oldKnown: true }
      : await hooks.history
          .read((r) => r.crankDelta(crank))
          .then((logged) => (logged ? { ...logged, from: 'log' as const } : undefined));
    if (!delta) {
      throw new SurfaceError(
        `crank ${crank} has no delta: it changed no vatstore, or the retained crank log no longer holds it`,
      );
    }
    return {
      ...delta,
      crank,
      sets: delta.sets.map((s) => {
        const old = shown(s.old);
        const now = shown(s.new);
        return {
          key: s.key,
          old: old.raw,
          new: now.raw ?? '',
          ...('decoded' in old ? { oldDecoded: old.decoded } : {}),
          ...('decoded' in now ? { newDecoded: now.decoded } : {}),
        };
      }),
      deletes: delta.deletes.map((d) => {
        const old = shown(d.old);
        return {
          key: d.key,
          old: old.raw,
          ...('decoded' in old ? { oldDecoded: old.decoded } : {}),
        };
      }),
    };
  },
});
