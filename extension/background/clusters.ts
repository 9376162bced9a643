/**
 * Cluster configs in the extension. Bundles come with the extension (built at build
 * time into dist/bundles) or inline in the config; nothing is fetched from the network,
 * and there is no bundler at run time, so `sourceSpec` is refused.
 */
import {
  ClusterConfigError,
  parseClusterConfig,
  type ClusterConfig,
  type ResolvedCluster,
  type VatBundle,
} from '../../kernel/index.ts';

/** The cluster a profile's first run launches (written by the build). */
export const DEFAULT_CLUSTER_PATH = 'clusters/default-cluster.json';

async function fetchPackaged(path: string, what: string): Promise<unknown> {
  const url = chrome.runtime.getURL(path);
  const response = await fetch(url).catch(() => undefined);
  if (!response?.ok)
    throw new ClusterConfigError(`${what}: ${path} is not in the extension`);
  return response.json() as Promise<unknown>;
}

/** A bundleSpec names a file of the extension: "bundles/counter.bundle.json". */
function packagedPath(name: string, spec: string): string {
  const own = chrome.runtime.getURL('');
  const path = spec.startsWith(own)
    ? spec.slice(own.length)
    : spec.replace(/^\.?\//u, '');
  if (/^[a-z][a-z0-9+.-]*:/iu.test(path) || path.split('/').includes('..')) {
    throw new ClusterConfigError(
      `invalid cluster config at vats.${name}.bundleSpec: ${JSON.stringify(spec)} is outside the extension; bundles are never fetched from the network (give a path such as "bundles/counter.bundle.json", or an inline bundle)`,
    );
  }
  return path;
}

export async function resolveCluster(config: ClusterConfig): Promise<ResolvedCluster> {
  const vats: ResolvedCluster['vats'] = {};
  for (const [name, vat] of Object.entries(config.vats)) {
    let bundle: VatBundle;
    if (vat.bundle) {
      bundle = vat.bundle as VatBundle;
    } else if (vat.bundleSpec !== undefined) {
      bundle = (await fetchPackaged(
        packagedPath(name, vat.bundleSpec),
        `invalid cluster config at vats.${name}.bundleSpec`,
      )) as VatBundle;
    } else {
      throw new ClusterConfigError(
        `invalid cluster config at vats.${name}.sourceSpec: the extension has no bundler at run time; give a bundleSpec naming a bundle it ships (bundles/<name>.bundle.json) or an inline bundle`,
      );
    }
    vats[name] = {
      bundle,
      parameters: vat.parameters ?? {},
      globals: vat.globals ?? [],
      ...(vat.network ? { network: vat.network } : {}),
      ...(vat.deliveryTimeoutMs === undefined
        ? {}
        : { deliveryTimeoutMs: vat.deliveryTimeoutMs }),
    };
  }
  return { bootstrap: config.bootstrap, vats };
}

export async function loadDefaultCluster(): Promise<ResolvedCluster> {
  const config = parseClusterConfig(
    await fetchPackaged(DEFAULT_CLUSTER_PATH, 'the default cluster'),
  );
  return resolveCluster(config);
}
