/**
 * `cask send --data DIR TARGET METHOD [JSON_ARG…] [--timeout SECONDS]`: sends
 * METHOD(...args) to TARGET — the root of the vat of that name, or a kernel object or
 * promise by kref (`ko7`, `kp3`, as an earlier send printed it) — and prints the result.
 * Through the daemon of DIR if one runs, else in this process. Objects in the result
 * stay callable (pinned for the CLI) until `cask release`.
 */
import { KREF } from '../../daemon/index.ts';
import { jsonArgs, parse, requireData, timeoutOf } from '../args.ts';
import { printSettlement, type CliIo } from '../io.ts';
import { callKernel } from '../session.ts';

export async function send(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    { data: { type: 'string' }, timeout: { type: 'string' } },
    { min: 2, max: Infinity, names: 'TARGET METHOD [JSON_ARG...]' },
  );
  const dataDir = requireData(values.data, 'send');
  const timeoutMs = timeoutOf(values.timeout);
  const [target, method, ...texts] = positionals as [string, string, ...string[]];
  const callArgs = jsonArgs(texts);
  const result = await callKernel(dataDir, io, 'send', {
    target: KREF.test(target) ? { kref: target } : { vat: target },
    method,
    args: callArgs,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  return printSettlement(result, `${target}.${method}`, io);
}
