/**
 * `cask terminate --data DIR VAT [--reason TEXT] [--delete-state]`: ends a vat. The
 * promises it decides and the messages waiting for it are rejected. Its vatstore is kept
 * unless --delete-state (which also deletes what an already terminated vat kept).
 */
import { parse, requireData } from '../args.ts';
import type { CliIo } from '../io.ts';
import { withExistingKernel } from '../kernel.ts';
import { vatNamed } from './vat-named.ts';

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
  const deleteState = values['delete-state'] === true;
  return withExistingKernel(dataDir, io, async ({ kernel }) => {
    const vat = vatNamed(kernel.state, positionals[0] as string, dataDir, {
      terminated: deleteState,
    });
    await kernel.resume();
    await kernel.terminateVat(
      vat.vatId,
      values.reason ?? 'terminated with cask terminate',
      {
        deleteState,
      },
    );
    await kernel.whenIdle();
    const after = kernel.state.requireVat(vat.vatId);
    io.stdout(
      JSON.stringify({
        vat: after.name,
        state: after.state,
        reason: after.reason,
        vatstore: kernel.state.vatstoreStats(vat.vatId),
      }),
    );
    return 0;
  });
}
