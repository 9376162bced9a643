import {
  array,
  boolean,
  exactOptional,
  nullable,
  object,
  size,
  string,
  unknown,
} from '@metamask/superstruct';
import { resolve } from 'node:path';
import { capdataToJson, type Settlement } from '../../../kernel/index.ts';
import { loadClusterFile } from '../../cluster-file/index.ts';
import { defineMethod, LONG_DEADLINE_MS } from './method.ts';

const Suspended = object({
  name: string(),
  vatId: string(),
  reason: string(),
  /** Suspended by this run (it failed to start), not before it. */
  now: boolean(),
});

/**
 * Launches a cluster (a config file, read where the kernel runs, relative to the client's `cwd`)
 * in a kernel that has none yet, or, in one that has, starts nothing new: bootstrap is
 * called once per kernel. Says which vats are suspended, and which of them this run
 * suspended (they failed to start).
 */
export const run = defineMethod({
  name: 'run',
  params: object({
    config: size(string(), 1, 4096),
    cwd: size(string(), 1, 4096),
    /** Fetch http(s) bundleSpecs (cask run --allow-fetch-bundles); refused otherwise. */
    allowFetch: exactOptional(boolean()),
  }),
  result: object({
    resumed: boolean(),
    /** The config's bootstrap vat. */
    bootstrapVat: string(),
    /** The bootstrap's settlement; null if its vat never started. */
    bootstrap: exactOptional(nullable(object({ rejected: boolean(), value: unknown() }))),
    status: exactOptional(unknown()),
    vats: array(string()),
    /** Vats the config names that the kernel does not have. */
    missing: array(string()),
    suspended: array(Suspended),
  }),
  deadlineMs: () => LONG_DEADLINE_MS,
  async handler(hooks, { config, cwd, allowFetch }) {
    // The path as the user gave it when it means the same here (its errors then name
    // it so); otherwise from the client's directory.
    const here = resolve(cwd, config) === resolve(config);
    const cluster = await loadClusterFile(here ? config : resolve(cwd, config), {
      allowFetch: allowFetch === true,
    });
    const host = await hooks.host();
    const { kernel } = host;
    const suspendedBefore = new Set(
      kernel.state
        .listVats()
        .filter((v) => v.state === 'suspended')
        .map((v) => v.vatId),
    );
    const launched = kernel.state.listVats().length > 0;
    let bootstrap: { rejected: boolean; value: unknown } | null | undefined;
    if (launched) {
      await hooks.resume();
      if (!hooks.keepsHeap) await kernel.whenIdle();
    } else {
      const { result } = await kernel.launchCluster(cluster);
      // The result, or the kernel idle without it: the bootstrap vat did not start,
      // so the message waits for it.
      let settled: Settlement | undefined;
      await Promise.race([
        result.then((s) => {
          settled = s;
        }),
        kernel.whenIdle(),
      ]);
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!hooks.keepsHeap) await kernel.whenIdle();
      const got = settled as Settlement | undefined;
      bootstrap = got ? { rejected: got.rejected, value: capdataToJson(got.data) } : null;
    }
    const live = kernel.state.listVats().filter((v) => v.state !== 'terminated');
    const stored = new Set(kernel.state.listVats().map((v) => v.name));
    return {
      resumed: launched,
      bootstrapVat: cluster.bootstrap,
      ...(bootstrap === undefined ? {} : { bootstrap }),
      ...(launched ? { status: kernel.status() } : {}),
      vats: live.map((v) => v.name),
      missing: Object.keys(cluster.vats).filter((name) => !stored.has(name)),
      suspended: kernel.state
        .listVats()
        .filter((v) => v.state === 'suspended')
        .map((v) => ({
          name: v.name,
          vatId: v.vatId,
          reason: v.reason ?? '',
          now: !suspendedBefore.has(v.vatId),
        })),
    };
  },
});
