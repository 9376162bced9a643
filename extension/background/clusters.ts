/**
 * Cluster configs in the extension. Bundles come with the extension (built at build
 * time into dist/bundles) or inline in the config; nothing is fetched from the network
 * and no file is read at run time (DESIGN: bundles are never fetched from the network),
 * and there is no bundler at run time, so `sourceSpec` is refused.
 *
 * A `bundleName` names an entry of the config's `bundles`, or else a bundle the extension
 * ships: `bundles/<name>.bundle.json`.
 */
import {
  ClusterConfigError,
  checkBundle,
  parseClusterConfig,
  resolveClusterConfig,
  vatCode,
  namedBundleCode,
  type VatCode,
  type ClusterConfig,
  type ResolvedCluster,
  type VatBundle,
} from '../../kernel/index.ts';
import type { ShippedBundle } from '../surface-protocol/index.ts';

/** The cluster a profile's first run launches (written by the build). */
export const DEFAULT_CLUSTER_PATH = 'clusters/default-cluster.json';

async function fetchPackaged(path: string, what: string): Promise<unknown> {
  const url = chrome.runtime.getURL(path);
  const response = await fetch(url).catch(() => undefined);
  if (!response?.ok)
    throw new ClusterConfigError(`${what}: ${path} is not in the extension`);
  return response.json() as Promise<unknown>;
}

/**
 * A bundleSpec names a file of the extension: "bundles/counter.bundle.json". `where`
 * begins a refusal: "invalid cluster config at vats.a.bundleSpec", or a request's field.
 */
function packagedPath(where: string, spec: string): string {
  const own = chrome.runtime.getURL('');
  const path = spec.startsWith(own)
    ? spec.slice(own.length)
    : spec.replace(/^\.?\//u, '');
  const scheme = /^([a-z][a-z0-9+.-]*):/iu.exec(path)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https') {
    throw new ClusterConfigError(
      `${where}: ${JSON.stringify(spec)} is on the network, and the extension never fetches bundles from the network at run time; ship the bundle with the extension (bundles/<name>.bundle.json) or give it inline as \`bundle\``,
    );
  }
  if (scheme === 'file') {
    throw new ClusterConfigError(
      `${where}: ${JSON.stringify(spec)} is a file, and the extension cannot read files; ship the bundle with the extension (bundles/<name>.bundle.json) or give it inline as \`bundle\``,
    );
  }
  if (scheme !== undefined || path.split('/').includes('..')) {
    throw new ClusterConfigError(
      `${where}: ${JSON.stringify(spec)} is outside the extension; bundles are never fetched from the network (give a path such as "bundles/counter.bundle.json", or an inline bundle)`,
    );
  }
  return path;
}

async function packagedBundle(
  path: string,
  field: string,
  prefix = 'invalid cluster config at',
): Promise<VatBundle> {
  const value = await fetchPackaged(path, `${prefix} ${field}`);
  try {
    return checkBundle(value, field);
  } catch (error) {
    throw new ClusterConfigError(`${prefix} ${(error as Error).message}`);
  }
}

/** Where the build lists the bundles it ships (extension/build). */
export const SHIPPED_BUNDLES_PATH = 'bundles/index.json';

/** The bundles the extension ships, as the build listed them. */
export async function shippedBundles(): Promise<ShippedBundle[]> {
  return (await fetchPackaged(
    SHIPPED_BUNDLES_PATH,
    'the list of shipped bundles',
  )) as ShippedBundle[];
}

/**
 * The bundle a vat's code names: inline, or shipped with the extension (by bundleSpec,
 * or by bundleName as bundles/<name>.bundle.json); a sourceSpec is refused. Refusals
 * begin with `prefix` and the field: a cluster config's, or a request's
 * ("upgradeVat refused: params.bundleSpec").
 */
export async function readVatCode(
  code: VatCode,
  prefix = 'invalid cluster config at',
): Promise<VatBundle> {
  const where = `${prefix} ${code.field}`;
  switch (code.kind) {
    case 'bundle':
      try {
        return checkBundle(code.bundle, code.field);
      } catch (error) {
        throw new ClusterConfigError(`${prefix} ${(error as Error).message}`);
      }
    case 'bundleSpec':
      return await packagedBundle(packagedPath(where, code.spec), code.field, prefix);
    case 'bundleName':
      if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/u.test(code.name)) {
        throw new ClusterConfigError(
          `${where}: ${JSON.stringify(code.name)} is neither in bundles nor the name of a bundle the extension ships`,
        );
      }
      return await packagedBundle(`bundles/${code.name}.bundle.json`, code.field, prefix);
    case 'sourceSpec':
      throw new ClusterConfigError(
        `${where}: the extension has no bundler at run time; give a bundleSpec naming a bundle it ships (bundles/<name>.bundle.json) or an inline bundle`,
      );
  }
}

export async function resolveCluster(config: ClusterConfig): Promise<ResolvedCluster> {
  if (config.forceReset === true) {
    // Honouring it here would discard every vat of the running kernel on a launch
    // request; that is left to an explicit import of a state file.
    throw new ClusterConfigError(
      'invalid cluster config at forceReset: the extension does not discard its running kernel to launch a cluster; remove forceReset (or set it to false) to launch beside the vats it has',
    );
  }
  const bundles: Record<string, VatBundle> = {};
  for (const name of Object.keys(config.vats))
    bundles[name] = await readVatCode(vatCode(config, name));
  const named: Record<string, VatBundle> = {};
  for (const name of Object.keys(config.bundles ?? {})) {
    named[name] = await readVatCode(namedBundleCode(config, name));
  }
  return resolveClusterConfig(config, bundles, named);
}

export async function loadDefaultCluster(): Promise<ResolvedCluster> {
  const config = parseClusterConfig(
    await fetchPackaged(DEFAULT_CLUSTER_PATH, 'the default cluster'),
  );
  return resolveCluster(config);
}
