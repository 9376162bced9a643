/**
 * `cask terminate --data DIR VAT [--reason TEXT] [--delete-state]`: ends a vat. The
 * promises it decides and the messages waiting for it are rejected. Its vatstore is kept
 * unless --delete-state (which also deletes what an already terminated vat kept).
 */
import { parse, requireData } from '../args.ts';
import type { CliIo } from '../io.ts';
import { callKernel } from '../session.ts';

export async function terminate(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      data: { type: 'string' },
      reason: { type: 'string' },
      'delete-state': { type: 'boolean' },
    },
    { min: 1, max: 1, names: 'VAT' },
  );
  const dataDir = requireData(values.data, 'terminate');
  const after = await callKernel(dataDir, io, 'terminate', {
    vat: positionals[0] as string,
    ...(values.reason === undefined ? {} : { reason: values.reason }),
    deleteState: values['delete-state'] === true,
  });
  io.stdout(JSON.stringify(after));
  return 0;
}
