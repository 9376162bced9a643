import { object, unknown } from '@metamask/superstruct';
import { parseClusterConfig } from '../../../kernel/index.ts';
import { defineMethod } from '../method.ts';
import { settlementToJson } from './settlement.ts';

/**
 * Launches a cluster from a config (ocap-kernel's shape; bundles by `bundleSpec` naming
 * one shipped with the extension, or inline `bundle`) and waits for its bootstrap result.
 */
export const launchCluster = defineMethod({
  name: 'launchCluster',
  params: object({ config: unknown() }),
  async handler(hooks, { config }) {
    const parsed = parseClusterConfig(config);
    const resolved = await hooks.resolveCluster(parsed);
    const { kernel } = await hooks.host();
    const { result } = await kernel.launchCluster(resolved);
    const vats = Object.fromEntries(
      Object.keys(resolved.vats).map((name) => [
        name,
        kernel.state.getVatByName(name)?.vatId ?? null,
      ]),
    );
    return { vats, bootstrap: settlementToJson(await result) };
  },
});
