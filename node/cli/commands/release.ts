/**
 * `cask release --data DIR KREF… | --all`: lets go of objects and promises earlier
 * sends printed (the kernel keeps them for the CLI until then), so the kernel may
 * collect them.
 */
import { UsageError, parse, requireData } from '../args.ts';
import type { CliIo } from '../io.ts';
import { KREF } from '../../daemon/index.ts';
import { callKernel } from '../session.ts';

export async function release(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    { data: { type: 'string' }, all: { type: 'boolean' } },
    { min: 0, max: Infinity, names: 'KREF... or --all' },
  );
  const dataDir = requireData(values.data, 'release');
  const all = values.all === true;
  if (all === positionals.length > 0) {
    throw new UsageError('release takes either KREF... or --all');
  }
  const bad = positionals.filter((k) => !KREF.test(k));
  if (bad.length > 0) {
    throw new UsageError(
      `${bad.map((k) => JSON.stringify(k)).join(', ')} ${bad.length === 1 ? 'is not a kref' : 'are not krefs'} (ko… or kp…)`,
    );
  }
  const result = await callKernel(
    dataDir,
    io,
    'release',
    all ? { all: true } : { krefs: positionals },
  );
  io.stderr(
    `released ${result.released.length === 0 ? 'nothing' : result.released.join(', ')}; still pinned: ${result.pinned.join(', ') || 'none'}`,
  );
  io.stdout(JSON.stringify(result));
  return 0;
}
