/**
 * `cask send --data DIR VAT METHOD [JSON_ARG…] [--timeout SECONDS]`: sends
 * METHOD(...args) to the root of vat VAT and prints the result. The vat and the
 * arguments are checked before anything runs; a message that cannot be answered now (its
 * vat suspended, or its result left unresolved) is said so, and stays queued.
 */
import { KernelError, type Settlement } from '../../../kernel/index.ts';
import { jsonArgs, parse, requireData, timeoutOf } from '../args.ts';
import { CommandFailed, printSettlement, type CliIo } from '../io.ts';
import { afterPromiseJobs, withExistingKernel } from '../kernel.ts';
import { vatNamed } from './vat-named.ts';

export async function send(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    { data: { type: 'string' }, timeout: { type: 'string' } },
    { min: 2, max: Infinity, names: 'VAT METHOD [JSON_ARG...]' },
  );
  const dataDir = requireData(values.data, 'send');
  const timeoutMs = timeoutOf(values.timeout);
  const [vatName, method, ...texts] = positionals as [string, string, ...string[]];
  const callArgs = jsonArgs(texts);
  return withExistingKernel(dataDir, io, async ({ kernel }) => {
    const vat = vatNamed(kernel.state, vatName, dataDir);
    // Before anything runs: a bad argument changes nothing.
    try {
      kernel.checkMessage(vat.rootKref, method, callArgs);
    } catch (error) {
      if (error instanceof KernelError) throw new CommandFailed(error.message);
      throw error;
    }
    await kernel.resume();
    const what = `${vatName}.${method}`;
    let settled: Settlement | undefined;
    let failure: unknown;
    const answer = kernel
      .queueMessage(
        vat.rootKref,
        method,
        callArgs,
        timeoutMs === undefined ? {} : { timeoutMs },
      )
      .then(
        (s) => {
          settled = s;
        },
        (error: unknown) => {
          failure = error;
        },
      );
    // The answer, or the kernel idle without one: the message waits (its vat suspended),
    // or its vat never resolved the result.
    await Promise.race([answer, kernel.whenIdle()]);
    await afterPromiseJobs();
    if (failure !== undefined) {
      throw failure instanceof KernelError ? new CommandFailed(failure.message) : failure;
    }
    if (settled === undefined) {
      const now = kernel.state.requireVat(vat.vatId);
      throw new CommandFailed(
        now.state === 'suspended'
          ? `${what} waits: vat "${vatName}" is suspended (${now.reason ?? ''}); the message stays queued and is delivered when the vat is restarted (cask restart --data ${dataDir} ${vatName})`
          : `${what} has no answer: the kernel is idle and its result is unresolved (the vat has not resolved it)`,
      );
    }
    await kernel.whenIdle();
    return printSettlement(settled, what, io);
  });
}
