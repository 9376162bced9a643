/**
 * `cask restart --data DIR VAT`: starts a new incarnation of a running or suspended vat
 * from its last committed state; a suspended vat's waiting messages then run, first.
 */
import { KernelError } from '../../../kernel/index.ts';
import { parse, requireData } from '../args.ts';
import { CommandFailed, type CliIo } from '../io.ts';
import { withExistingKernel } from '../kernel.ts';
import { vatNamed } from './vat-named.ts';

export async function restart(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    { data: { type: 'string' } },
    { min: 1, max: 1, names: 'VAT' },
  );
  const dataDir = requireData(values.data, 'restart');
  return withExistingKernel(dataDir, io, async ({ kernel }) => {
    const vat = vatNamed(kernel.state, positionals[0] as string, dataDir);
    await kernel.resume();
    try {
      await kernel.restartVat(vat.vatId);
    } catch (error) {
      if (error instanceof KernelError) throw new CommandFailed(error.message);
      throw error;
    }
    await kernel.whenIdle();
    const after = kernel.state.requireVat(vat.vatId);
    io.stdout(
      JSON.stringify({
        vat: after.name,
        state: after.state,
        incarnation: after.incarnation,
      }),
    );
    return after.state === 'running' ? 0 : 1;
  });
}
