/**
 * Every field a cluster config may have, and every field other systems' configs have
 * that Cask refuses, with the reason. A field in neither list is a typo or an invention:
 * it is refused with the nearest known name. docs/vats.md ("Cluster files") lists them
 * all; keep the two in step.
 */
import { ClusterConfigError } from './errors.ts';
import { closest } from './suggest.ts';

export interface FieldRules {
  /** What the fields of this object are called in messages: "field", "creation option". */
  noun: string;
  /** The fields Cask honours here. */
  known: readonly string[];
  /** Fields of ocap-kernel's or SwingSet's configs that mean nothing here, and why. */
  refused: Readonly<Record<string, string>>;
}

const NO_METERING =
  'Cask has no metering; `deliveryTimeoutMs` bounds how long one delivery may run';

export const CLUSTER_FIELDS: FieldRules = {
  noun: 'field',
  known: [
    'bootstrap',
    'vats',
    'forceReset',
    'services',
    'bundles',
    'defaultReapInterval',
  ],
  refused: {
    io: "ocap-kernel's IO service (console, file, socket and network streams) is not part of Cask; a vat reaches the outside only through the objects and `globals` it is given",
    devices:
      "SwingSet's devices are not part of Cask; a host offers its powers to vats as kernel services (`services`)",
    defaultManagerType:
      'Cask picks the worker itself: a worker thread in Node, a sandboxed iframe in the extension',
    includeDevDependencies:
      "Cask bundles a `sourceSpec` with its own dependencies (see docs/vats.md); SwingSet's dev-dependency switch has no equivalent",
    defaultReapGCKrefs:
      'Cask asks a vat to collect its garbage when the kernel is idle and by delivery count (`defaultReapInterval`, `creationOptions.reapInterval`), not by GC krefs',
    relaxDurabilityRules:
      "Cask always enforces liveslots' durability rules: a durable object may hold only durable references",
    snapshotInitial:
      'Cask takes no heap snapshots: a vat restarts from its vatstore, as SwingSet vats do after an upgrade',
    snapshotInterval:
      'Cask takes no heap snapshots: a vat restarts from its vatstore, as SwingSet vats do after an upgrade',
    pinBootstrapRoot:
      "Cask always keeps every vat's root object (the kernel holds a reference to it), so there is nothing to pin",
  },
};

export const VAT_FIELDS: FieldRules = {
  noun: 'field',
  known: [
    'sourceSpec',
    'bundleSpec',
    'bundleName',
    'bundle',
    'parameters',
    'globals',
    'deliveryTimeoutMs',
    'creationOptions',
    'network',
  ],
  refused: {
    platformConfig:
      "ocap-kernel's platform capabilities (`fs`, …) are not part of Cask; a vat reaches the outside only through the objects and `globals` it is given",
    bundleHash:
      'Cask has no content-addressed bundle store; give a `bundleSpec`, a `bundleName` from `bundles`, or an inline `bundle`',
    bundleID:
      'Cask has no content-addressed bundle store; give a `bundleSpec`, a `bundleName` from `bundles`, or an inline `bundle`',
    endowments:
      'SwingSet never implemented config `endowments`; name the extra globals a vat needs in `globals`',
    vatParameters: 'in a cluster config the parameters of a vat are its `parameters`',
  },
};

/** A vat's `network` (ocap-kernel's). */
export const NETWORK_FIELDS: FieldRules = {
  noun: 'field',
  known: ['allowedHosts'],
  refused: {},
};

/** An entry of `bundles`: code only. */
export const BUNDLE_FIELDS: FieldRules = {
  noun: 'field',
  known: ['sourceSpec', 'bundleSpec', 'bundle'],
  refused: {
    bundleName: 'an entry of `bundles` is code itself; it cannot name another bundle',
    bundleHash:
      'Cask has no content-addressed bundle store; give a `bundleSpec` or an inline `bundle`',
  },
};

/**
 * SwingSet's `creationOptions` (docs/configuration.md; initializeKernel.js and
 * vat-loader.js accept exactly these, plus `name` and `meterID` for dynamic vats). Each
 * known one is honoured or checked in creation-options.ts.
 */
export const CREATION_OPTIONS: FieldRules = {
  noun: 'creation option',
  known: [
    'reapInterval',
    'neverReap',
    'enablePipelining',
    'enableSetup',
    'useTranscript',
    'name',
  ],
  refused: {
    managerType:
      'Cask picks the worker itself: a worker thread in Node, a sandboxed iframe in the extension',
    nodeOptions:
      "Cask runs no vat in a subprocess (it goes with SwingSet's `managerType: 'node-subprocess'`)",
    workerOptions:
      'Cask picks the worker itself: a worker thread in Node, a sandboxed iframe in the extension',
    reapGCKrefs:
      'Cask asks a vat to collect its garbage when the kernel is idle and by delivery count (`reapInterval`), not by GC krefs',
    critical:
      'no vat failure stops a Cask kernel: a failing vat is suspended with its state kept, for a person to restart or terminate (docs/faults.md)',
    enableDisavow:
      'Cask does not give vats `vatPowers.disavow` (SwingSet allows it only in static vats, for tests)',
    virtualObjectCacheSize:
      'liveslots keeps no cache of virtual objects any more (SwingSet dropped the option with it)',
    meter: NO_METERING,
    meterID: NO_METERING,
    metered: NO_METERING,
  },
};

/**
 * Refuses a field of `value` (found at `where`) that is not known: by name with the
 * reason if another system uses it, else as unknown with the nearest known name.
 */
export function checkFields(
  value: Record<string, unknown>,
  rules: FieldRules,
  where: string,
): void {
  for (const key of Object.keys(value)) {
    if (rules.known.includes(key)) continue;
    const at = where === '' ? '' : ` in ${where}`;
    if (Object.hasOwn(rules.refused, key)) {
      throw new ClusterConfigError(
        `invalid cluster config: ${rules.noun} \`${key}\`${at} is not supported by Cask: ${rules.refused[key]}`,
      );
    }
    const near = closest(key, [...rules.known, ...Object.keys(rules.refused)]);
    throw new ClusterConfigError(
      `invalid cluster config: unknown ${rules.noun} \`${key}\`${at === '' ? ' at the top level' : at}${near === undefined ? '' : ` (did you mean \`${near}\`?)`}; expected ${expected(rules)}`,
    );
  }
}

/** "one of `a`, `b` or `c`": what may stand where an unknown field was found. */
export function expected(rules: FieldRules): string {
  const names = rules.known.map((k) => `\`${k}\``);
  if (names.length === 1) return names[0] ?? '';
  return `one of ${names.slice(0, -1).join(', ')} or ${names[names.length - 1] ?? ''}`;
}
