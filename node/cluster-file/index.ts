/**
 * Reads a cluster config file and resolves each vat's code into a bundle: `sourceSpec`
 * (a module, bundled here), `bundleSpec` (a bundle JSON file) or an inline `bundle`.
 * Paths are relative to the config file. Every failure names the file and the field.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  ClusterConfigError,
  parseClusterConfig,
  type ResolvedCluster,
  type ResolvedVatConfig,
  type VatBundle,
} from '../../kernel/index.ts';
import { bundleVatSource } from '../bundles/index.ts';

export class ClusterFileError extends Error {
  override name = 'ClusterFileError';
}

export async function loadClusterFile(path: string): Promise<ResolvedCluster> {
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
  let config;
  try {
    config = parseClusterConfig(json);
  } catch (error) {
    if (error instanceof ClusterConfigError) {
      throw new ClusterFileError(`${path}: ${error.message}`);
    }
    throw error;
  }
  const base = dirname(file);
  const vats: Record<string, ResolvedVatConfig> = {};
  for (const [name, vat] of Object.entries(config.vats)) {
    let bundle: VatBundle;
    if (vat.bundle) {
      bundle = vat.bundle;
    } else if (vat.bundleSpec !== undefined) {
      bundle = await readBundle(
        resolve(base, vat.bundleSpec),
        `vats.${name}.bundleSpec`,
        path,
      );
    } else {
      const source = resolve(base, vat.sourceSpec as string);
      try {
        bundle = await bundleVatSource(source);
      } catch (error) {
        throw new ClusterFileError(
          `${path}: vats.${name}.sourceSpec ${vat.sourceSpec}: the vat source does not build: ${(error as Error).message}`,
        );
      }
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

async function readBundle(
  file: string,
  field: string,
  config: string,
): Promise<VatBundle> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ClusterFileError(
      `${config}: ${field} ${file}: cannot read the bundle: ${(error as Error).message}`,
    );
  }
  const b = parsed as Partial<VatBundle> | null;
  if (
    b?.moduleFormat !== 'endoZipBase64' ||
    typeof b.endoZipBase64 !== 'string' ||
    typeof b.endoZipBase64Sha512 !== 'string'
  ) {
    throw new ClusterFileError(
      `${config}: ${field} ${file}: not an endoZipBase64 bundle (build one with @endo/bundle-source)`,
    );
  }
  return b as VatBundle;
}
