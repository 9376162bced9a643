/**
 * `cask restart --data DIR VAT`: starts a new incarnation of a running or suspended vat
 * from its last committed state; a suspended vat's waiting messages then run, first.
 */
import { parse, requireData } from '../args.ts';
import type { CliIo } from '../io.ts';
import { callKernel } from '../session.ts';

export async function restart(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    { data: { type: 'string' } },
    { min: 1, max: 1, names: 'VAT' },
  );
  const dataDir = requireData(values.data, 'restart');
  const after = await callKernel(dataDir, io, 'restart', {
    vat: positionals[0] as string,
  });
  io.stdout(JSON.stringify(after));
  return after.state === 'running' ? 0 : 1;
}
