/**
 * `cask status --data DIR`: whether a daemon runs on DIR, and if so its pid, socket,
 * uptime, vats, crank and the krefs it keeps for the CLI. Exits 0 if one runs, 3 if
 * none does.
 */
import { findDaemon } from '../../daemon/index.ts';
import { parse, requireData } from '../args.ts';
import type { CliIo } from '../io.ts';

export async function status(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(
    args,
    { data: { type: 'string' } },
    { min: 0, max: 0, names: 'no positional arguments' },
  );
  const dataDir = requireData(values.data, 'status');
  const found = await findDaemon(dataDir);
  if (!found) {
    io.stderr(`no daemon runs on ${dataDir}`);
    io.stdout(JSON.stringify({ running: false }));
    return 3;
  }
  found.client.close();
  const s = found.status;
  io.stderr(
    `daemon pid ${s.pid} runs ${s.dataDir} on ${s.socket}, up ${Math.round(s.uptimeMs / 1000)} s, crank ${s.crank} (durable ${s.durableCrank}), run queue ${s.runQueueLength}`,
  );
  for (const v of s.vats)
    io.stderr(`  ${v.name.padEnd(16)} ${v.vatId.padEnd(5)} ${v.state}`);
  io.stdout(JSON.stringify({ running: true, ...s }));
  return 0;
}
