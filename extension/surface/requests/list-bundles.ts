import { object } from '@metamask/superstruct';
import type { ShippedBundle } from '../../surface-protocol/index.ts';
import { defineMethod } from '../method.ts';

/**
 * The bundles the extension ships (dist/bundles, listed by the build), by name, with the
 * bundleSpec that names each in a cluster config or an upgrade, and its bundle id.
 */
export const listBundles = defineMethod({
  name: 'listBundles',
  params: object({}),
  async handler(hooks): Promise<{ shipped: ShippedBundle[] }> {
    return { shipped: await hooks.shippedBundles() };
  },
});
