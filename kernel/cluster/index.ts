/**
 * Cluster configs: which vats to launch and which one to bootstrap. The shape follows
 * ocap-kernel's cluster configs, so a config written for it runs here:
 *
 *   { "bootstrap": "alice",
 *     "vats": { "alice": { "sourceSpec": "./alice.js", "parameters": { … } } } }
 *
 * A host resolves each vat's `sourceSpec` / `bundleSpec` / inline `bundle` into a bundle
 * and hands the kernel a `ResolvedCluster`.
 */
import {
  array,
  boolean,
  integer,
  exactOptional,
  object,
  record,
  string,
  literal,
  unknown,
  validate,
  type Infer,
  refine,
  size,
} from '@metamask/superstruct';
import type { VatBundle } from '../protocol/index.ts';

/**
 * Names a vat may not have: the properties every object inherits (a vat named
 * `__proto__` would set a prototype where the kernel keeps vats by name) and `then`
 * (it would make the record of roots that bootstrap receives a thenable).
 */
export const RESERVED_VAT_NAMES: ReadonlySet<string> = new Set([
  ...Object.getOwnPropertyNames(Object.prototype),
  'then',
]);

const vatName = refine(size(string(), 1, 64), 'vat name', (value) => {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/u.test(value)) {
    return `vat names are letters, digits, "_" and "-", starting with a letter or "_"; got ${JSON.stringify(value)}`;
  }
  return RESERVED_VAT_NAMES.has(value)
    ? `"${value}" is reserved and cannot name a vat`
    : true;
});

const BundleStruct = object({
  moduleFormat: literal('endoZipBase64'),
  endoZipBase64: string(),
  endoZipBase64Sha512: string(),
});

export const VatConfigStruct = object({
  sourceSpec: exactOptional(size(string(), 1, 4096)),
  bundleSpec: exactOptional(size(string(), 1, 4096)),
  bundle: exactOptional(BundleStruct),
  parameters: exactOptional(record(string(), unknown())),
  /** Extra globals for the vat, from the supervisor's allow-list (e.g. "TextEncoder"). */
  globals: exactOptional(array(string())),
  /** The watchdog: how long one delivery to this vat may take, in ms (default 30 s). */
  deliveryTimeoutMs: exactOptional(size(integer(), 1, 24 * 60 * 60 * 1000)),
  creationOptions: exactOptional(record(string(), unknown())),
  /** ocap-kernel's: the hosts an endowed `fetch` may reach (by hostname, or host:port). */
  network: exactOptional(object({ allowedHosts: array(string()) })),
});
export type VatConfig = Infer<typeof VatConfigStruct>;

export const ClusterConfigStruct = object({
  bootstrap: vatName,
  forceReset: exactOptional(boolean()),
  services: exactOptional(array(string())),
  vats: record(vatName, VatConfigStruct),
});
export type ClusterConfig = Infer<typeof ClusterConfigStruct>;

export interface ResolvedVatConfig {
  bundle: VatBundle;
  parameters: Record<string, unknown>;
  globals: string[];
  /** The hosts an endowed `fetch` may reach. */
  network?: { allowedHosts: string[] };
  deliveryTimeoutMs?: number;
}

export interface ResolvedCluster {
  bootstrap: string;
  vats: Record<string, ResolvedVatConfig>;
  /** Kernel services handed to bootstrap as its second argument, by name. */
  services?: string[];
  /** Bundles stored under a name, for vats the vat admin creates later. */
  bundles?: Record<string, VatBundle>;
}

export class ClusterConfigError extends Error {
  override name = 'ClusterConfigError';
}

/** Validates a parsed cluster config; the error names the field that is wrong. */
export function parseClusterConfig(value: unknown): ClusterConfig {
  const [failure, config] = validate(value, ClusterConfigStruct);
  if (failure) {
    const first = failure.failures()[0] ?? failure;
    const where = first.path.length ? first.path.join('.') : '(the config)';
    throw new ClusterConfigError(`invalid cluster config at ${where}: ${first.message}`);
  }
  const names = Object.keys(config.vats);
  if (names.length === 0) {
    throw new ClusterConfigError('invalid cluster config at vats: it names no vats');
  }
  if (!names.includes(config.bootstrap)) {
    throw new ClusterConfigError(
      `invalid cluster config at bootstrap: "${config.bootstrap}" is not one of the vats (${names.join(', ')})`,
    );
  }
  for (const [name, vat] of Object.entries(config.vats)) {
    const specs = (['sourceSpec', 'bundleSpec', 'bundle'] as const).filter(
      (k) => vat[k] !== undefined,
    );
    if (specs.length !== 1) {
      throw new ClusterConfigError(
        `invalid cluster config at vats.${name}: give exactly one of sourceSpec, bundleSpec or bundle (got ${specs.length ? specs.join(', ') : 'none'})`,
      );
    }
  }
  return config;
}
