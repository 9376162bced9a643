/**
 * `cask label --data DIR CRANK NAME`: names the commit ending at CRANK; it is then kept
 * whatever the retention policy says (docs/history.md).
 */
import { crankOf, parse, requireData } from '../args.ts';
import type { CliIo } from '../io.ts';
import { callKernel } from '../session.ts';

export async function label(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    { data: { type: 'string' } },
    { min: 2, max: 2, names: 'CRANK NAME' },
  );
  const dataDir = requireData(values.data, 'label');
  const crank = crankOf(positionals[0] as string, 'CRANK');
  const labelled = await callKernel(dataDir, io, 'label', {
    crank,
    name: positionals[1] as string,
  });
  io.stdout(JSON.stringify(labelled));
  return 0;
}
