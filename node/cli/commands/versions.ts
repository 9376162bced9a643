/**
 * `cask versions --data DIR VAT`: VAT's code versions, oldest first — the incarnation each
 * started at, its bundle id (short; `cask upgrade --bundle-id` takes it), the crank that
 * upgraded to it — and which is current. Reads only, as `cask inspect` does: without a
 * daemon it opens DIR read-only, with no kernel; nothing runs, no byte changes.
 */
import { parse, requireData } from '../args.ts';
import type { CliIo } from '../io.ts';
import { callKernel } from '../session.ts';
import { shortBundleId } from '../../daemon/index.ts';

export async function versions(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    { data: { type: 'string' } },
    { min: 1, max: 1, names: 'VAT' },
  );
  const dataDir = requireData(values.data, 'versions');
  const listed = await callKernel(dataDir, io, 'versions', {
    vat: positionals[0] as string,
  });
  io.stderr(
    `vat ${listed.vat} (${listed.vatId}), ${listed.state}, incarnation ${listed.incarnation}`,
  );
  io.stderr('  version  incarnation  bundle        crank');
  for (const v of listed.versions) {
    io.stderr(
      `  ${String(v.version).padEnd(8)} ${String(v.incarnation).padEnd(12)} ${shortBundleId(v.bundleId).padEnd(13)} ${v.crank === null ? 'created' : String(v.crank)}${v.current ? '  (current)' : ''}`,
    );
  }
  io.stdout(JSON.stringify(listed));
  return 0;
}
