/**
 * SwingSet's `creationOptions`, as far as they mean something here. Cask honours
 * `reapInterval` / `neverReap` (how often a vat is asked to collect its garbage) and
 * accepts the others only at the value that describes what Cask does anyway, refusing
 * the rest by name: an option that was accepted and ignored would be a lie.
 */
import { ClusterConfigError } from './errors.ts';
import { CREATION_OPTIONS, checkFields } from './fields.ts';

export type ReapInterval = number | 'never';

const MAX_REAP_INTERVAL = 2 ** 31 - 1;

/** A reap interval: deliveries between two bringOutYourDead, or 'never'. */
export function parseReapInterval(value: unknown, where: string): ReapInterval {
  if (
    value === 'never' ||
    (typeof value === 'number' &&
      Number.isInteger(value) &&
      value >= 1 &&
      value <= MAX_REAP_INTERVAL)
  ) {
    return value;
  }
  throw new ClusterConfigError(
    `invalid cluster config at ${where}: a reap interval is a whole number of deliveries (at least 1) or "never"; got ${JSON.stringify(value)}`,
  );
}

/** A boolean option that Cask supports only at `allowed`: any other value is refused. */
function onlyAt(
  options: Record<string, unknown>,
  option: string,
  allowed: boolean,
  where: string,
  why: string,
): void {
  if (!Object.hasOwn(options, option)) return;
  const value = options[option];
  if (typeof value !== 'boolean') {
    throw new ClusterConfigError(
      `invalid cluster config at ${where}.${option}: expected true or false; got ${JSON.stringify(value)}`,
    );
  }
  if (value !== allowed) {
    throw new ClusterConfigError(
      `invalid cluster config: creation option \`${option}: ${value}\` in ${where} is not supported by Cask: ${why}`,
    );
  }
}

export interface VatCreation {
  reapInterval?: ReapInterval;
}

/** Checks a vat's `creationOptions` (at `where`) and returns what the kernel must do. */
export function parseCreationOptions(
  options: Record<string, unknown>,
  vatName: string,
  where: string,
): VatCreation {
  checkFields(options, CREATION_OPTIONS, where);
  onlyAt(
    options,
    'enablePipelining',
    false,
    where,
    'messages to an unresolved promise wait in the kernel until it is resolved and then go to the object it resolved to; they are never delivered to the vat that decides the promise (results are the same, without the pipelined delivery)',
  );
  onlyAt(
    options,
    'enableSetup',
    false,
    where,
    'every Cask vat runs under liveslots and is built by its `buildRootObject`; a vat exporting the low-level `setup()` (dispatch without liveslots) would get no virtual objects, no baggage and no vatstore delta',
  );
  onlyAt(
    options,
    'useTranscript',
    false,
    where,
    'Cask keeps no transcript of deliveries to replay; a vat restarts from its vatstore (durable objects and baggage), as SwingSet vats do after an upgrade',
  );
  if (Object.hasOwn(options, 'name') && options.name !== vatName) {
    throw new ClusterConfigError(
      `invalid cluster config at ${where}.name: a vat is named by its key in \`vats\` ("${vatName}"); got ${JSON.stringify(options.name)}`,
    );
  }
  const creation: VatCreation = {};
  if (Object.hasOwn(options, 'neverReap')) {
    const never = options.neverReap;
    if (typeof never !== 'boolean') {
      throw new ClusterConfigError(
        `invalid cluster config at ${where}.neverReap: expected true or false; got ${JSON.stringify(never)}`,
      );
    }
    if (never) creation.reapInterval = 'never';
  }
  if (Object.hasOwn(options, 'reapInterval')) {
    const interval = parseReapInterval(options.reapInterval, `${where}.reapInterval`);
    if (creation.reapInterval === 'never' && interval !== 'never') {
      throw new ClusterConfigError(
        `invalid cluster config at ${where}: neverReap is true but reapInterval is ${interval}; give one of them`,
      );
    }
    creation.reapInterval = interval;
  }
  return creation;
}
