/**
 * `cask unlabel --data DIR NAME`: removes a label; its commit is then kept only as long
 * as the retention policy keeps it (docs/history.md).
 */
import { parse, requireData } from '../args.ts';
import type { CliIo } from '../io.ts';
import { callKernel } from '../session.ts';

export async function unlabel(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    { data: { type: 'string' } },
    { min: 1, max: 1, names: 'NAME' },
  );
  const dataDir = requireData(values.data, 'unlabel');
  const removed = await callKernel(dataDir, io, 'unlabel', {
    name: positionals[0] as string,
  });
  io.stdout(JSON.stringify(removed));
  return 0;
}
