/**
 * `cask inspect --data DIR`: the vats (with why any is suspended or terminated, and the
 * messages waiting for it), their vatstores, the last durable crank, the run queue, the
 * log, the checkpoint, and anything recovery found or cut. Read-only: without a daemon
 * it opens the directory read-only and reads the store as recovery would, with no
 * kernel; with one, the daemon reads its kernel between cranks. No crank runs, no byte
 * changes.
 */
import { parse, requireData } from '../args.ts';
import type { CliIo } from '../io.ts';
import { callKernel } from '../session.ts';

interface VatLine {
  name: string;
  vatId: string;
  state: string;
  incarnation: number;
  vatstore: { keys: number; bytes: number };
  reason?: string;
  held?: number;
}

interface Cut {
  segment: number;
  offset: number;
  bytes: number;
  location: string;
}

export async function inspect(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(
    args,
    { data: { type: 'string' } },
    { min: 0, max: 0, names: 'no positional arguments' },
  );
  const dataDir = requireData(values.data, 'inspect');
  const summary = await callKernel(dataDir, io, 'inspect', {});
  const vats = summary.vats as VatLine[];
  io.stderr(
    `data directory ${dataDir}${summary.daemon ? ` (its daemon, pid ${summary.daemon.pid}, answered)` : ''}`,
  );
  io.stderr(
    `last durable crank ${summary.lastDurableCrank}, run queue ${summary.runQueueLength}`,
  );
  io.stderr(
    `log: ${summary.log.records} record(s), ${summary.log.bytes} bytes since checkpoint ${summary.checkpoint.seq} (${summary.checkpoint.bytes} bytes)`,
  );
  for (const v of vats) {
    io.stderr(
      `  ${v.name.padEnd(16)} ${v.vatId.padEnd(5)} ${v.state.padEnd(10)} incarnation ${v.incarnation}  ${v.vatstore.keys} keys, ${v.vatstore.bytes} bytes${
        v.state === 'suspended' ? `, ${v.held ?? 0} message(s) waiting` : ''
      }${v.reason ? `\n    ${v.state === 'suspended' ? 'suspended' : 'terminated'}: ${v.reason}` : ''}`,
    );
  }
  const torn = summary.tornTail as
    { segment: number; offset: number; bytes: number; why: string } | undefined;
  if (torn) {
    io.stderr(
      `torn write: the last ${torn.bytes} bytes of log segment ${torn.segment} (from byte ${torn.offset}) are ${torn.why}; the next start will cut them and keep them beside the log`,
    );
  }
  for (const cut of summary.cutTails as Cut[]) {
    io.stderr(
      `cut earlier: ${cut.bytes} bytes from log segment ${cut.segment} at byte ${cut.offset}, kept in ${cut.location}`,
    );
  }
  for (const skipped of summary.skippedCheckpoints as Array<{
    seq: number;
    reason: string;
  }>) {
    io.stderr(`unusable checkpoint ${skipped.seq}: ${skipped.reason}`);
  }
  for (const leftover of summary.leftovers as Array<{ path: string; what: string }>) {
    io.stderr(`left by an interrupted write: ${leftover.path} (${leftover.what})`);
  }
  io.stdout(JSON.stringify(summary));
  return 0;
}
