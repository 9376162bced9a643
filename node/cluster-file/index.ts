/**
 * Reads a cluster config file and resolves each vat's code into a bundle: `sourceSpec`
 * (a module, bundled here), `bundleSpec` (a bundle file), an inline `bundle`, or a
 * `bundleName` naming one of the config's `bundles`. Every failure names the file and
 * the field.
 *
 * A spec is a path (relative to the config file) or a `file:` URL. An `http:`/`https:`
 * bundleSpec is fetched only when the caller allows it (`cask run --allow-fetch-bundles`),
 * with a size limit and a timeout: a config file should not make the CLI reach the
 * network unasked.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ClusterConfigError,
  checkBundle,
  parseClusterConfig,
  resolveClusterConfig,
  vatCode,
  namedBundleCode,
  type VatCode,
  type ResolvedCluster,
  type VatBundle,
} from '../../kernel/index.ts';
import { bundleVatSource } from '../bundles/index.ts';
import { fetchBundleText, type FetchLimits } from './fetch.ts';

export { DEFAULT_FETCH_LIMITS, type FetchLimits } from './fetch.ts';

export class ClusterFileError extends Error {
  override name = 'ClusterFileError';
}

export interface ClusterFileOptions {
  /** Fetch `http(s)://` bundleSpecs (off by default: they are refused). */
  allowFetch?: boolean;
  /** How much and how long a fetch may take. */
  fetchLimits?: Partial<FetchLimits>;
}

/** `scheme:` at the start of a spec; two letters at least, so it is never a drive. */
const SCHEME = /^([a-z][a-z0-9+.-]+):/iu;

type Location = { kind: 'file'; path: string } | { kind: 'url'; url: URL };

function locate(spec: string, base: string, field: string, config: string): Location {
  const scheme = SCHEME.exec(spec)?.[1]?.toLowerCase();
  if (scheme === undefined) return { kind: 'file', path: resolve(base, spec) };
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new ClusterFileError(`${config}: ${field} ${spec}: not a valid URL`);
  }
  if (scheme === 'file') return { kind: 'file', path: fileURLToPath(url) };
  if (scheme === 'http' || scheme === 'https') return { kind: 'url', url };
  throw new ClusterFileError(
    `${config}: ${field} ${spec}: a spec is a path, a file: URL or (for bundles) an http(s): URL, not ${scheme}:`,
  );
}

export async function loadClusterFile(
  path: string,
  options: ClusterFileOptions = {},
): Promise<ResolvedCluster> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ClusterFileError(
      code === 'ENOENT'
        ? `cluster config ${path} does not exist`
        : `cannot read cluster config ${path}: ${(error as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ClusterFileError(
      `cluster config ${path} is not valid JSON: ${(error as Error).message}`,
    );
  }
  const named = (error: unknown): never => {
    if (error instanceof ClusterConfigError || error instanceof Error) {
      throw new ClusterFileError(`${path}: ${error.message}`);
    }
    throw error;
  };
  let config;
  try {
    config = parseClusterConfig(json);
  } catch (error) {
    return named(error);
  }
  const base = dirname(file);
  // Vats naming the same bundle read it once.
  const read = new Map<string, Promise<VatBundle>>();
  const once = (key: string, make: () => Promise<VatBundle>): Promise<VatBundle> => {
    let bundle = read.get(key);
    if (bundle === undefined) {
      bundle = make();
      read.set(key, bundle);
    }
    return bundle;
  };
  const readCode = async (code: VatCode): Promise<VatBundle> => {
    const { field } = code;
    switch (code.kind) {
      case 'bundle':
        return code.bundle;
      case 'bundleName':
        throw new ClusterFileError(
          `${path}: ${field}: no bundle "${code.name}" in bundles (${Object.keys(config.bundles ?? {}).join(', ') || 'the config has none'})`,
        );
      case 'bundleSpec': {
        const where = locate(code.spec, base, field, path);
        const key = where.kind === 'file' ? where.path : where.url.href;
        return await once(key, () =>
          readBundle(where, `${field} ${code.spec}`, path, options),
        );
      }
      case 'sourceSpec': {
        const where = locate(code.spec, base, field, path);
        if (where.kind !== 'file') {
          throw new ClusterFileError(
            `${path}: ${field} ${code.spec}: a sourceSpec is a path or a file: URL; bundle remote code first and give it as a bundleSpec`,
          );
        }
        return await once(`source ${where.path}`, async () => {
          try {
            return await bundleVatSource(where.path);
          } catch (error) {
            throw new ClusterFileError(
              `${path}: ${field} ${code.spec}: the vat source does not build: ${(error as Error).message}`,
            );
          }
        });
      }
    }
  };
  const bundles: Record<string, VatBundle> = {};
  for (const name of Object.keys(config.vats)) {
    let code;
    try {
      code = vatCode(config, name);
    } catch (error) {
      return named(error);
    }
    bundles[name] = await readCode(code);
  }
  // Every named bundle is stored with the kernel, for vats the vat admin creates later.
  const namedBundles: Record<string, VatBundle> = {};
  for (const name of Object.keys(config.bundles ?? {})) {
    let code;
    try {
      code = namedBundleCode(config, name);
    } catch (error) {
      return named(error);
    }
    namedBundles[name] = await readCode(code);
  }
  try {
    return resolveClusterConfig(config, bundles, namedBundles);
  } catch (error) {
    return named(error);
  }
}

async function readBundle(
  where: Location,
  field: string,
  config: string,
  options: ClusterFileOptions,
): Promise<VatBundle> {
  let text: string;
  if (where.kind === 'url') {
    if (options.allowFetch !== true) {
      throw new ClusterFileError(
        `${config}: ${field}: bundles are fetched from the network only when allowed (cask run --allow-fetch-bundles)`,
      );
    }
    try {
      text = await fetchBundleText(where.url, options.fetchLimits);
    } catch (error) {
      throw new ClusterFileError(`${config}: ${field}: ${(error as Error).message}`);
    }
  } else {
    try {
      text = await readFile(where.path, 'utf8');
    } catch (error) {
      throw new ClusterFileError(
        `${config}: ${field}: cannot read the bundle: ${(error as Error).message}`,
      );
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ClusterFileError(
      `${config}: ${field}: the bundle is not JSON: ${(error as Error).message}`,
    );
  }
  try {
    return checkBundle(parsed, field);
  } catch (error) {
    throw new ClusterFileError(`${config}: ${(error as Error).message}`);
  }
}
