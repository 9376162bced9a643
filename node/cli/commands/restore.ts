/**
 * `cask restore --data DIR CRANK`: brings the whole kernel back to the state after the
 * commit ending at CRANK (see `cask history`), as a new commit; restoring to the crank
 * before that commit undoes it. With a daemon, its kernel restores in place and its
 * vats are relaunched.
 */
import { crankOf, parse, requireData } from '../args.ts';
import type { CliIo } from '../io.ts';
import { callKernel } from '../session.ts';

export async function restore(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    { data: { type: 'string' } },
    { min: 1, max: 1, names: 'CRANK' },
  );
  const dataDir = requireData(values.data, 'restore');
  const crank = crankOf(positionals[0] as string, 'CRANK');
  const outcome = await callKernel(dataDir, io, 'restore', { crank });
  io.stderr(
    `restored ${dataDir} to crank ${outcome.crank} as crank ${outcome.restoreCrank} (checkpoint ${outcome.fromCheckpoint} and ${outcome.replayed} record(s) replayed); undo with cask restore --data ${dataDir} ${outcome.undoCrank}`,
  );
  io.stdout(JSON.stringify(outcome));
  return 0;
}
