import {
  array,
  boolean,
  nullable,
  number,
  object,
  size,
  string,
  unknown,
} from '@metamask/superstruct';
import { capdataToJson } from '../../../kernel/index.ts';
import { defineMethod, SHORT_DEADLINE_MS } from './method.ts';
import { vatNamed } from './vat-named.ts';

/**
 * A vat's code versions, oldest first: the incarnation each started at, its bundle id,
 * its parameters (JSON) and the crank that upgraded the vat to it (null for the first).
 * Every version's bundle stays stored, so any of them can be upgraded to again. Reads
 * only, as inspect does; a terminated vat's versions are listed too.
 */
export const versions = defineMethod({
  name: 'versions',
  params: object({ vat: size(string(), 1, 256) }),
  result: object({
    vat: string(),
    vatId: string(),
    state: string(),
    incarnation: number(),
    versions: array(
      object({
        version: number(),
        incarnation: number(),
        bundleId: string(),
        parameters: unknown(),
        crank: nullable(number()),
        current: boolean(),
      }),
    ),
  }),
  deadlineMs: () => SHORT_DEADLINE_MS * 6,
  readsOnly: true,
  async handler(hooks, params) {
    return hooks.inspect(async ({ state }) => {
      const vat = vatNamed(state, params.vat, hooks.dataDir, { terminated: true });
      const all = state.vatVersions(vat.vatId);
      return {
        vat: vat.name,
        vatId: vat.vatId,
        state: vat.state,
        incarnation: vat.incarnation,
        versions: all.map((v, i) => ({
          version: v.version,
          incarnation: v.incarnation,
          bundleId: v.bundleId,
          parameters: capdataToJson(v.parameters),
          crank: v.crank,
          current: i === all.length - 1,
        })),
      };
    });
  },
});

/** A bundle id as people read it: twelve hex digits are enough to tell versions apart. */
export function shortBundleId(id: string): string {
  const hash = /^(iife-sha256-)?([0-9a-f]+)$/u.exec(id);
  return hash ? `${hash[1] ?? ''}${(hash[2] ?? '').slice(0, 12)}` : id;
}
