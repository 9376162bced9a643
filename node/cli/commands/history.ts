/**
 * `cask history --data DIR`: the retained commits, oldest first (crank range, time, vats
 * that changed, delta size, labels), and what history costs beside the live state.
 *   --vat NAME --at CRANK [--prefix P] [--after KEY] [--limit N]: that vat's vatstore
 *     after that commit, one page;
 *   --vat NAME --key KEY: the retained commits that changed that key.
 * Reads only: without a daemon it opens DIR read-only; no crank runs, no byte changes.
 */
import type { ListedCommit } from '../../host/index.ts';
import { crankOf, parse, requireData, UsageError } from '../args.ts';
import type { CliIo } from '../io.ts';
import { callKernel } from '../session.ts';

export async function history(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(
    args,
    {
      data: { type: 'string' },
      vat: { type: 'string' },
      key: { type: 'string' },
      at: { type: 'string' },
      prefix: { type: 'string' },
      after: { type: 'string' },
      limit: { type: 'string' },
    },
    { min: 0, max: 0, names: 'no positional arguments' },
  );
  const dataDir = requireData(values.data, 'history');
  const { vat, key, at } = values;
  if (vat === undefined) {
    if (key !== undefined || at !== undefined) {
      throw new UsageError('--key and --at need --vat NAME');
    }
    const listing = await callKernel(dataDir, io, 'history', {});
    for (const c of listing.commits as ListedCommit[]) io.stderr(commitLine(c));
    const { checkpointBytes, logBytes, liveBytes } = listing.space;
    io.stderr(
      `${listing.commits.length} commit(s) retained; history takes ${checkpointBytes + logBytes} bytes (checkpoints ${checkpointBytes}, log ${logBytes}), ${((checkpointBytes + logBytes) / Math.max(liveBytes, 1)).toFixed(2)}× the live state (${liveBytes} bytes)`,
    );
    io.stdout(JSON.stringify(listing));
    return 0;
  }
  if (key !== undefined) {
    if (at !== undefined) throw new UsageError('give --key or --at, not both');
    const { changes } = await callKernel(dataDir, io, 'keyHistory', { vat, key });
    io.stdout(JSON.stringify({ vat, key, changes }));
    return 0;
  }
  if (at === undefined) throw new UsageError('--vat needs --at CRANK or --key KEY');
  const limit = values.limit === undefined ? 100 : Number(values.limit);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) {
    throw new UsageError(
      `--limit takes a whole number from 1 to 10000, not ${JSON.stringify(values.limit)}`,
    );
  }
  const page = await callKernel(dataDir, io, 'vatstoreAt', {
    crank: crankOf(at, '--at'),
    vat,
    limit,
    ...(values.prefix === undefined ? {} : { prefix: values.prefix }),
    ...(values.after === undefined ? {} : { after: values.after }),
  });
  io.stdout(JSON.stringify(page));
  return 0;
}

function commitLine(c: ListedCommit): string {
  const cranks =
    c.firstCrank === c.lastCrank ? `${c.lastCrank}` : `${c.firstCrank}–${c.lastCrank}`;
  const when = c.time === undefined ? '(no time)' : new Date(c.time).toISOString();
  const vats = c.vats.map((v) => v.name ?? v.vatId).join(',') || '-';
  const what = c.restore
    ? ` restore to crank ${c.restore.crank}`
    : c.between
      ? ' (between cranks)'
      : '';
  const labels = c.labels.length > 0 ? ` [${c.labels.join(', ')}]` : '';
  return `  crank ${cranks.padEnd(11)} seq ${String(c.seq).padEnd(7)} ${when}  ${c.changes} row(s), ${c.bytes} bytes  vats ${vats}${what}${labels}`;
}
