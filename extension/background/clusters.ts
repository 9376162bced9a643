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
function packagedPath(field: string, spec: string): string {
  const own = chrome.runtime.getURL('');
  const path = spec.startsWith(own)
    ? spec.slice(own.length)
    : spec.replace(/^\.?\//u, '');
  const scheme = /^([a-z][a-z0-9+.-]*):/iu.exec(path)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https') {
    throw new ClusterConfigError(
      `invalid cluster config at ${field}: ${JSON.stringify(spec)} is on the network, and the extension never fetches bundles from the network at run time; ship the bundle with the extension (bundles/<name>.bundle.json) or give it inline as \`bundle\``,
    );
  }
  if (scheme === 'file') {
    throw new ClusterConfigError(
      `invalid cluster config at ${field}: ${JSON.stringify(spec)} is a file, and the extension cannot read files; ship the bundle with the extension (bundles/<name>.bundle.json) or give it inline as \`bundle\``,
    );
  }
  if (scheme !== undefined || path.split('/').includes('..')) {
    throw new ClusterConfigError(
      `invalid cluster config at ${field}: ${JSON.stringify(spec)} is outside the extension; bundles are never fetched from the network (give a path such as "bundles/counter.bundle.json", or an inline bundle)`,
    );
  }
  return path;
}

async function packagedBundle(path: string, field: string): Promise<VatBundle> {
  const where = `invalid cluster config at ${field}`;
  const value = await fetchPackaged(path, where);
  try {
    return checkBundle(value, field);
  } catch (error) {
    throw new ClusterConfigError(`invalid cluster config at ${(error as Error).message}`);
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
  const read = async (code: VatCode): Promise<VatBundle> => {
    switch (code.kind) {
      case 'bundle':
        return code.bundle;
      case 'bundleSpec':
        return await packagedBundle(packagedPath(code.field, code.spec), code.field);
      case 'bundleName':
        if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/u.test(code.name)) {
          throw new ClusterConfigError(
            `invalid cluster config at ${code.field}: ${JSON.stringify(code.name)} is neither in bundles nor the name of a bundle the extension ships`,
          );
        }
        return await packagedBundle(`bundles/${code.name}.bundle.json`, code.field);
      case 'sourceSpec':
        throw new ClusterConfigError(
          `invalid cluster config at ${code.field}: the extension has no bundler at run time; give a bundleSpec naming a bundle it ships (bundles/<name>.bundle.json) or an inline bundle`,
        );
    }
  };
  const bundles: Record<string, VatBundle> = {};
  for (const name of Object.keys(config.vats))
    bundles[name] = await read(vatCode(config, name));
  const named: Record<string, VatBundle> = {};
  for (const name of Object.keys(config.bundles ?? {})) {
    named[name] = await read(namedBundleCode(config, name));
  }
  return resolveClusterConfig(config, bundles, named);
}

export async function loadDefaultCluster(): Promise<ResolvedCluster> {
  const config = parseClusterConfig(
    await fetchPackaged(DEFAULT_CLUSTER_PATH, 'the default cluster'),
  );
  return resolveCluster(config);
}
