import { object, optional, pattern, size, string } from '@metamask/superstruct';
import type { ObjectsPage } from '../../surface-protocol/index.ts';
import { defineMethod, pageLimit, SurfaceError } from '../method.ts';

/**
 * One page of a vat's c-list, in kref order: each object or promise it exports (`o+`,
 * `p+`) or imports (`o-`, `p-`), with the object's owner, reachable and recognizable
 * counts and importers, or the promise's state and decider. Read between cranks; at
 * most 1,000 entries a page.
 */
export const objects = defineMethod({
  name: 'objects',
  params: object({
    vatId: size(string(), 1, 32),
    after: optional(pattern(string(), /^k[op]\d{1,15}$/u)),
    limit: pageLimit(200),
  }),
  async handler(hooks, { vatId, after, limit }): Promise<ObjectsPage> {
    const { kernel } = await hooks.host();
    return kernel.readState((state) => {
      const vat = state.getVat(vatId);
      if (!vat) {
        const known = state.listVats().map((v) => v.vatId);
        throw new SurfaceError(
          `no vat ${vatId}; the vats are ${known.join(', ') || '(none)'}`,
        );
      }
      const page = state.clistPage(vatId, {
        limit,
        ...(after === undefined ? {} : { after }),
      });
      return {
        vatId,
        name: vat.name,
        more: page.more,
        entries: page.entries.map(({ kref, vref, reachable }) => {
          const direction = vref.charAt(1) === '+' ? 'export' : 'import';
          const pinnedBy = state.pinnersOf(kref);
          if (kref.startsWith('kp')) {
            const p = state.getPromise(kref);
            return {
              kref,
              vref,
              kind: 'promise',
              direction,
              reachableFlag: reachable,
              owner: p?.decider ?? null,
              ...(p ? { state: p.state, refcount: p.refcount } : {}),
              pinnedBy,
            };
          }
          const o = state.getObject(kref);
          return {
            kref,
            vref,
            kind: 'object',
            direction,
            reachableFlag: reachable,
            owner: o?.owner ?? null,
            reachable: o?.reachable ?? 0,
            recognizable: o?.recognizable ?? 0,
            importers: state.importersOf(kref),
            pinnedBy,
          };
        }),
      };
    });
  },
});
