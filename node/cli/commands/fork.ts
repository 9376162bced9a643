/**
 * `cask fork --data DIR CRANK --to NEWDIR`: writes NEWDIR, a new data directory holding
 * the kernel as of the commit ending at CRANK, to try things on and throw away. NEWDIR
 * must be new or empty; DIR is not touched.
 */
import { resolve } from 'node:path';
import { crankOf, parse, requireData, UsageError } from '../args.ts';
import type { CliIo } from '../io.ts';
import { callKernel } from '../session.ts';

export async function fork(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    { data: { type: 'string' }, to: { type: 'string' } },
    { min: 1, max: 1, names: 'CRANK' },
  );
  const dataDir = requireData(values.data, 'fork');
  if (values.to === undefined || values.to === '') {
    throw new UsageError('fork needs --to NEWDIR');
  }
  const crank = crankOf(positionals[0] as string, 'CRANK');
  // Absolute: a daemon answering may have another working directory.
  const forked = await callKernel(dataDir, io, 'fork', { crank, to: resolve(values.to) });
  io.stderr(`forked crank ${forked.crank} of ${dataDir} into ${forked.dir}`);
  io.stdout(JSON.stringify(forked));
  return 0;
}
