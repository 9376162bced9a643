import { object, size, string } from '@metamask/superstruct';
import { capdataToJson } from '../../../kernel/index.ts';
import type { VatVersionsReport } from '../../surface-protocol/index.ts';
import { defineMethod } from '../method.ts';
import { vatNamed } from './vat-ref.ts';

/**
 * A vat's code versions, oldest first (the last is the one it runs): each with the
 * incarnation it began, its bundle id, its parameters and the crank that upgraded the
 * vat to it; `shippedAs` names the shipped bundle with that id, if any. Any version's
 * bundleId can be given to `upgradeVat` to go back to it.
 */
export const vatVersions = defineMethod({
  name: 'vatVersions',
  params: object({ vat: size(string(), 1, 64) }),
  async handler(hooks, { vat }): Promise<VatVersionsReport> {
    const { kernel } = await hooks.host();
    const record = vatNamed(kernel, vat);
    // Without the list (a build that has none) the versions are still reported.
    const shipped = await hooks.shippedBundles().catch(() => []);
    const names = new Map(shipped.map((b) => [b.bundleId, b.name]));
    const versions = kernel.vatVersions(record.vatId).map((v) => {
      const shippedAs = names.get(v.bundleId);
      return {
        version: v.version,
        incarnation: v.incarnation,
        bundleId: v.bundleId,
        parameters: capdataToJson(v.parameters),
        crank: v.crank,
        ...(shippedAs === undefined ? {} : { shippedAs }),
      };
    });
    return {
      vatId: record.vatId,
      name: record.name,
      state: record.state,
      current: versions.at(-1)?.version ?? 1,
      versions,
    };
  },
});
