/**
 * `cask upgrade --data DIR VAT (SOURCE | --bundle-id ID | --bundle-name NAME)
 * [--parameters JSON]`: replaces VAT's code in place, keeping its durable state
 * (docs/upgrade.md). SOURCE is a vat source (.js, .ts; bundled here, as a cluster's
 * sourceSpec) or a bundle file (.json, as a bundleSpec); --bundle-id goes back to a
 * version the vat ran (`cask versions` prints the ids). Through the daemon of DIR if one
 * runs, else in this process. A rolled-back upgrade exits 1 with the kernel's reason;
 * the old version runs on.
 */
import { UsageError, parse, requireData } from '../args.ts';
import type { CliIo } from '../io.ts';
import { callKernel } from '../session.ts';
import { readVatCode } from '../vat-code.ts';
import { shortBundleId } from '../../daemon/index.ts';

export async function upgrade(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      data: { type: 'string' },
      'bundle-id': { type: 'string' },
      'bundle-name': { type: 'string' },
      parameters: { type: 'string' },
    },
    {
      min: 1,
      max: 2,
      names: 'VAT and SOURCE (or --bundle-id ID, or --bundle-name NAME)',
    },
  );
  const dataDir = requireData(values.data, 'upgrade');
  const [vat, source] = positionals as [string, string | undefined];
  const ways = [
    source === undefined ? undefined : 'SOURCE',
    values['bundle-id'] === undefined ? undefined : '--bundle-id',
    values['bundle-name'] === undefined ? undefined : '--bundle-name',
  ].filter((w) => w !== undefined);
  if (ways.length !== 1) {
    throw new UsageError(
      `upgrade takes exactly one of SOURCE, --bundle-id ID or --bundle-name NAME; got ${ways.length ? ways.join(' and ') : 'none'}`,
    );
  }
  const parameters = parametersOf(values.parameters);
  // Checked and bundled before the kernel is asked: bad code changes nothing.
  const code =
    source !== undefined
      ? { bundle: (await readVatCode(source)) as unknown as Record<string, unknown> }
      : values['bundle-id'] !== undefined
        ? { bundleId: values['bundle-id'] }
        : { bundleName: values['bundle-name'] as string };
  const done = await callKernel(dataDir, io, 'upgrade', {
    vat,
    ...code,
    ...(parameters === undefined ? {} : { parameters }),
  });
  io.stderr(
    `upgraded ${done.vat} (${done.vatId}) from version ${done.from} to version ${done.version} (incarnation ${done.incarnation}, bundle ${shortBundleId(done.bundleId)})`,
  );
  io.stdout(JSON.stringify(done));
  return 0;
}

/** `--parameters JSON`: a JSON object, what buildRootObject gets as its parameters. */
function parametersOf(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `--parameters is not valid JSON (${(error as Error).message}): ${text}`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`--parameters must be a JSON object, not ${text}`);
  }
  return value as Record<string, unknown>;
}
