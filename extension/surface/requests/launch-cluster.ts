import { refine, type as shape, unknown } from '@metamask/superstruct';
import { closest, parseClusterConfig, type Settlement } from '../../../kernel/index.ts';
import { defineMethod } from '../method.ts';
import { settlementToJson, type SettlementJson } from './settlement.ts';

/**
 * Launches a cluster from a config (ocap-kernel's shape; bundles by `bundleSpec` naming
 * one shipped with the extension, or inline `bundle`) and answers with its bootstrap
 * result, or — when the kernel goes idle without one, because the bootstrap vat did not
 * start — with `status: 'waiting'` and why (the bootstrap message waits for the vat).
 */
/**
 * `{ config }` and nothing else. Checked by hand rather than with `object`, whose refusal
 * of a misspelt key reads "Expected a value of type `never`".
 */
const Params = refine(shape({ config: unknown() }), 'launchCluster params', (value) => {
  const extra = Object.keys(value).find((key) => key !== 'config');
  if (extra !== undefined) {
    const near = closest(extra, ['config']);
    return `unknown param \`${extra}\`${near ? ' (did you mean `config`?)' : ''}; launchCluster takes \`config\` (the cluster config)`;
  }
  return value.config === undefined
    ? 'missing `config`: launchCluster takes `config` (the cluster config)'
    : true;
});

export const launchCluster = defineMethod({
  name: 'launchCluster',
  params: Params,
  async handler(hooks, { config }) {
    const parsed = parseClusterConfig(config);
    const resolved = await hooks.resolveCluster(parsed);
    const { kernel } = await hooks.host();
    const { result } = await kernel.launchCluster(resolved);
    let settled: Settlement | undefined;
    const answered = result.then((s) => {
      settled = s;
    });
    await Promise.race([answered, kernel.whenIdle()]);
    // A result released as the kernel went idle arrives within a task.
    if (!settled) await new Promise((resolve) => setTimeout(resolve, 0));
    const vats = Object.fromEntries(
      Object.keys(resolved.vats).map((name) => [
        name,
        kernel.state.getVatByName(name)?.vatId ?? null,
      ]),
    );
    const boot = kernel.state.getVatByName(resolved.bootstrap);
    const bootstrap: SettlementJson | { status: 'waiting'; reason: string } =
      settled !== undefined
        ? settlementToJson(settled)
        : {
            status: 'waiting',
            reason:
              boot?.state === 'suspended'
                ? `vat "${boot.name}" did not start: ${boot.reason ?? ''}`
                : 'the bootstrap result is not settled yet',
          };
    return { vats, bootstrap };
  },
});
