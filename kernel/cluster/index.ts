/**
 * Cluster configs: which vats to launch and which one to bootstrap. The shape follows
 * ocap-kernel's cluster configs (and SwingSet's, where they agree), so a config written
 * for either runs here:
 *
 *   { "bootstrap": "alice",
 *     "vats": { "alice": { "sourceSpec": "./alice.js", "parameters": { … } } } }
 *
 * Every field is either honoured or refused by name (fields.ts): an unknown one is named
 * with the nearest known field. A host reads each vat's code (`vatCode`: a
 * `sourceSpec`, a `bundleSpec`, an inline `bundle`, or a `bundleName` from the config's
 * `bundles`) and hands the kernel a `ResolvedCluster` built by `resolveClusterConfig`.
 */
import {
  array,
  boolean,
  integer,
  exactOptional,
  object,
  record,
  string,
  unknown,
  validate,
  type Infer,
  refine,
  size,
} from '@metamask/superstruct';
import type { VatBundle } from '../protocol/index.ts';
import { checkBundle } from './bundle-formats.ts';
import {
  parseCreationOptions,
  parseReapInterval,
  type ReapInterval,
} from './creation-options.ts';
import { ClusterConfigError } from './errors.ts';
import {
  BUNDLE_FIELDS,
  CLUSTER_FIELDS,
  NETWORK_FIELDS,
  VAT_FIELDS,
  checkFields,
} from './fields.ts';

export { ClusterConfigError } from './errors.ts';
export { BundleFormatError, bundleIdOf, checkBundle } from './bundle-formats.ts';
export type { ReapInterval } from './creation-options.ts';
export { closest, editDistance } from './suggest.ts';
export { BUNDLE_FIELDS, CLUSTER_FIELDS, CREATION_OPTIONS, VAT_FIELDS } from './fields.ts';

/**
 * Names a vat may not have: the properties every object inherits (a vat named
 * `__proto__` would set a prototype where the kernel keeps vats by name) and `then`
 * (it would make the record of roots that bootstrap receives a thenable).
 */
export const RESERVED_VAT_NAMES: ReadonlySet<string> = new Set([
  ...Object.getOwnPropertyNames(Object.prototype),
  'then',
]);

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/u;

const name = (what: string) =>
  refine(size(string(), 1, 64), what, (value) => {
    if (!NAME.test(value)) {
      return `${what}s are letters, digits, "_" and "-", starting with a letter or "_"; got ${JSON.stringify(value)}`;
    }
    return RESERVED_VAT_NAMES.has(value)
      ? `"${value}" is reserved and cannot name a ${what}`
      : true;
  });
const vatName = name('vat name');

const spec = size(string(), 1, 4096);

export const VatConfigStruct = object({
  sourceSpec: exactOptional(spec),
  /** A path (relative to the config file), a file: URL or, where allowed, http(s). */
  bundleSpec: exactOptional(spec),
  /** A key of the config's `bundles`. */
  bundleName: exactOptional(size(string(), 1, 256)),
  /** An inline bundle, checked by checkBundle. */
  bundle: exactOptional(unknown()),
  parameters: exactOptional(record(string(), unknown())),
  /** Extra globals for the vat, from the supervisor's allow-list (e.g. "TextEncoder"). */
  globals: exactOptional(array(string())),
  /** The watchdog: how long one delivery to this vat may take, in ms (default 30 s). */
  deliveryTimeoutMs: exactOptional(size(integer(), 1, 24 * 60 * 60 * 1000)),
  /** SwingSet's; see creation-options.ts. */
  creationOptions: exactOptional(record(string(), unknown())),
  /** ocap-kernel's: the hosts an endowed `fetch` may reach (by hostname, or host:port). */
  network: exactOptional(object({ allowedHosts: array(string()) })),
});
export type VatConfig = Infer<typeof VatConfigStruct>;

const BundleEntryStruct = object({
  sourceSpec: exactOptional(spec),
  bundleSpec: exactOptional(spec),
  bundle: exactOptional(unknown()),
});

export const ClusterConfigStruct = object({
  bootstrap: vatName,
  /** Launch over a kernel that already exists: discard it and start afresh. */
  forceReset: exactOptional(boolean()),
  /** Kernel services the bootstrap vat receives, by name. */
  services: exactOptional(array(name('service name'))),
  /** Code that vats name by `bundleName` (SwingSet's and ocap-kernel's `bundles`). */
  bundles: exactOptional(record(size(string(), 1, 256), BundleEntryStruct)),
  /** SwingSet's: the reap interval of every vat that gives none of its own. */
  defaultReapInterval: exactOptional(unknown()),
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
  /**
   * Deliveries between two bringOutYourDead to this vat, or 'never'; absent, the
   * kernel's own interval (SwingSet's `creationOptions.reapInterval`).
   */
  reapInterval?: ReapInterval;
}

export interface ResolvedCluster {
  bootstrap: string;
  vats: Record<string, ResolvedVatConfig>;
  /** The kernel services `bootstrap(vats, services)` receives, by name. */
  services?: string[];
  /** Bundles stored under a name, for vats the vat admin creates later. */
  bundles?: Record<string, VatBundle>;
  /** The config asked for a fresh kernel; the host discards an existing one first. */
  forceReset?: boolean;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const CODE_FIELDS = ['sourceSpec', 'bundleSpec', 'bundleName', 'bundle'] as const;

/** Validates a parsed cluster config; the error names the field that is wrong. */
export function parseClusterConfig(value: unknown): ClusterConfig {
  if (!isRecord(value)) {
    throw new ClusterConfigError(
      'invalid cluster config: expected a JSON object with `bootstrap` and `vats`',
    );
  }
  // Names first: a misspelt field is the likeliest mistake, and its type error would
  // only confuse.
  checkFields(value, CLUSTER_FIELDS, '');
  if (isRecord(value.vats)) {
    for (const [vat, config] of Object.entries(value.vats)) {
      if (!isRecord(config)) continue;
      checkFields(config, VAT_FIELDS, `vats.${vat}`);
      if (isRecord(config.network)) {
        checkFields(config.network, NETWORK_FIELDS, `vats.${vat}.network`);
      }
    }
  }
  if (isRecord(value.bundles)) {
    for (const [bundle, config] of Object.entries(value.bundles)) {
      if (isRecord(config)) checkFields(config, BUNDLE_FIELDS, `bundles.${bundle}`);
    }
  }
  const [failure, config] = validate(value, ClusterConfigStruct);
  if (failure) {
    const first = failure.failures()[0] ?? failure;
    const where = first.path.length ? first.path.join('.') : '(the config)';
    // superstruct reports a field no struct names as "Expected a value of type `never`":
    // every object's fields are checked by name above, so this is a last resort.
    if (first.type === 'never') {
      throw new ClusterConfigError(
        `invalid cluster config: unknown field \`${String(first.key)}\` at ${where}`,
      );
    }
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
  const services = config.services ?? [];
  const twice = services.find((s, i) => services.indexOf(s) !== i);
  if (twice !== undefined) {
    throw new ClusterConfigError(
      `invalid cluster config at services: "${twice}" is named twice`,
    );
  }
  if (config.defaultReapInterval !== undefined) {
    parseReapInterval(config.defaultReapInterval, 'defaultReapInterval');
  }
  for (const [bundle, entry] of Object.entries(config.bundles ?? {})) {
    const given = CODE_FIELDS.filter((k) => k in entry);
    if (given.length !== 1) {
      throw new ClusterConfigError(
        `invalid cluster config at bundles.${bundle}: give exactly one of sourceSpec, bundleSpec or bundle (got ${given.length ? given.join(', ') : 'none'})`,
      );
    }
    if (entry.bundle !== undefined) checkInline(entry.bundle, `bundles.${bundle}.bundle`);
  }
  for (const [vat, entry] of Object.entries(config.vats)) {
    const given = CODE_FIELDS.filter((k) => entry[k] !== undefined);
    if (given.length !== 1) {
      throw new ClusterConfigError(
        `invalid cluster config at vats.${vat}: give exactly one of sourceSpec, bundleSpec or bundle, or a bundleName (got ${given.length ? given.join(', ') : 'none'})`,
      );
    }
    if (entry.bundle !== undefined) checkInline(entry.bundle, `vats.${vat}.bundle`);
    if (entry.creationOptions !== undefined) {
      parseCreationOptions(entry.creationOptions, vat, `vats.${vat}.creationOptions`);
    }
  }
  return config;
}

function checkInline(bundle: unknown, where: string): void {
  try {
    checkBundle(bundle, where);
  } catch (error) {
    throw new ClusterConfigError(`invalid cluster config at ${(error as Error).message}`);
  }
}

/** Where a vat's code comes from, after following its `bundleName`; `field` says where. */
export type VatCode =
  | { kind: 'sourceSpec'; spec: string; field: string }
  | { kind: 'bundleSpec'; spec: string; field: string }
  | { kind: 'bundle'; bundle: VatBundle; field: string }
  /** A name the config's `bundles` does not hold: the host may know it (or refuses it). */
  | { kind: 'bundleName'; name: string; field: string };

/** The code of vat `vat` of a parsed config. */
export function vatCode(config: ClusterConfig, vat: string): VatCode {
  const entry = config.vats[vat];
  if (entry === undefined) {
    throw new ClusterConfigError(`invalid cluster config: no vat "${vat}"`);
  }
  let source: CodeSource = entry;
  let field = `vats.${vat}`;
  if (entry.bundleName !== undefined) {
    const named = config.bundles?.[entry.bundleName];
    if (named === undefined || !Object.hasOwn(config.bundles ?? {}, entry.bundleName)) {
      return { kind: 'bundleName', name: entry.bundleName, field: `${field}.bundleName` };
    }
    source = named;
    field = `${field}.bundleName → bundles.${entry.bundleName}`;
  }
  return codeOf(source, field);
}

/** Where the code of `bundles.<name>` comes from. */
export function namedBundleCode(config: ClusterConfig, name: string): VatCode {
  const entry = Object.hasOwn(config.bundles ?? {}, name)
    ? config.bundles?.[name]
    : undefined;
  if (entry === undefined) {
    throw new ClusterConfigError(`invalid cluster config: no bundle "${name}"`);
  }
  return codeOf(entry, `bundles.${name}`);
}

type CodeSource = { sourceSpec?: string; bundleSpec?: string; bundle?: unknown };

function codeOf(source: CodeSource, field: string): VatCode {
  if (source.sourceSpec !== undefined) {
    return { kind: 'sourceSpec', spec: source.sourceSpec, field: `${field}.sourceSpec` };
  }
  if (source.bundleSpec !== undefined) {
    return { kind: 'bundleSpec', spec: source.bundleSpec, field: `${field}.bundleSpec` };
  }
  return {
    kind: 'bundle',
    bundle: checkBundle(source.bundle, `${field}.bundle`),
    field: `${field}.bundle`,
  };
}

/**
 * The cluster the kernel launches, given each vat's bundle (as the host read it from
 * `vatCode`). Carries `services`, `forceReset` and each vat's reap interval through.
 */
export function resolveClusterConfig(
  config: ClusterConfig,
  bundles: Record<string, VatBundle>,
  namedBundles: Record<string, VatBundle> = {},
): ResolvedCluster {
  const defaultReap =
    config.defaultReapInterval === undefined
      ? undefined
      : parseReapInterval(config.defaultReapInterval, 'defaultReapInterval');
  const vats: Record<string, ResolvedVatConfig> = {};
  for (const [vat, entry] of Object.entries(config.vats)) {
    const bundle = bundles[vat];
    if (bundle === undefined) {
      throw new ClusterConfigError(`no bundle was read for vat "${vat}"`);
    }
    const { reapInterval = defaultReap } = parseCreationOptions(
      entry.creationOptions ?? {},
      vat,
      `vats.${vat}.creationOptions`,
    );
    vats[vat] = {
      bundle,
      parameters: entry.parameters ?? {},
      globals: entry.globals ?? [],
      ...(entry.network ? { network: entry.network } : {}),
      ...(entry.deliveryTimeoutMs === undefined
        ? {}
        : { deliveryTimeoutMs: entry.deliveryTimeoutMs }),
      ...(reapInterval === undefined ? {} : { reapInterval }),
    };
  }
  return {
    bootstrap: config.bootstrap,
    vats,
    services: [...(config.services ?? [])],
    ...(Object.keys(namedBundles).length ? { bundles: { ...namedBundles } } : {}),
    ...(config.forceReset === undefined ? {} : { forceReset: config.forceReset }),
  };
}
