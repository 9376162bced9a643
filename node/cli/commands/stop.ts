/**
 * `cask stop --data DIR`: stops the daemon of DIR. From the moment it takes the request
 * no crank starts (what is queued stays queued); every committed crank is durable and
 * DIR released before it answers. Exits 3 if no daemon runs.
 */
import { findDaemon } from '../../daemon/index.ts';
import { parse, requireData } from '../args.ts';
import { CommandFailed, type CliIo } from '../io.ts';

/** How long `cask stop` waits for the daemon to close its connection after answering. */
const CLOSE_DEADLINE_MS = 10_000;

export async function stop(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(
    args,
    { data: { type: 'string' } },
    { min: 0, max: 0, names: 'no positional arguments' },
  );
  const dataDir = requireData(values.data, 'stop');
  const found = await findDaemon(dataDir);
  if (!found) {
    io.stderr(`cask: no daemon runs on ${dataDir}`);
    io.stdout(JSON.stringify({ running: false }));
    return 3;
  }
  const { client, status } = found;
  try {
    const report = await client.call('stop', {});
    const closed = await client.closed(CLOSE_DEADLINE_MS);
    io.stderr(
      `cask: stopped the daemon (pid ${status.pid}) of ${status.dataDir} at crank ${report.crank}; ${report.runQueueLength} item(s) stay queued${closed ? '' : ' (it has not closed its connection yet)'}`,
    );
    io.stdout(JSON.stringify({ stopped: true, pid: status.pid, ...report }));
    return 0;
  } catch (error) {
    throw new CommandFailed(
      `stopping the daemon (pid ${status.pid}) failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  } finally {
    client.close();
  }
}
