/**
 * `cask inspect --data DIR`: the vats (with why any is suspended or terminated, and the
 * messages waiting for it), their vatstores, the last durable crank, the run queue, the
 * log, the checkpoint, and anything recovery found or cut. Read-only: it opens the
 * directory read-only and reads the store as recovery would, with no kernel: no crank
 * runs, no byte changes.
 */
import { readNodeStore } from '../../host/index.ts';
import { parse, requireData } from '../args.ts';
import type { CliIo } from '../io.ts';

export async function inspect(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(
    args,
    { data: { type: 'string' } },
    { min: 0, max: 0, names: 'no positional arguments' },
  );
  const dataDir = requireData(values.data, 'inspect');
  const reading = await readNodeStore(dataDir);
  try {
    const { state, storage, report } = reading;
    const vats = state.listVats().map((v) => ({
      name: v.name,
      vatId: v.vatId,
      state: v.state,
      incarnation: v.incarnation,
      vatstore: state.vatstoreStats(v.vatId),
      ...(v.reason === null ? {} : { reason: v.reason }),
      ...(v.state === 'suspended' ? { held: state.heldCount(v.vatId) } : {}),
    }));
    const sizes = await storage.sizes();
    const cutTails = await storage.listCutTails();
    const summary = {
      dataDir,
      lastDurableCrank: state.peekCounter('crank') - 1,
      runQueueLength: state.runQueueLength(),
      log: {
        records: report.recordsReplayed,
        bytes: sizes.logBytes,
        lastSeq: report.lastSeq,
      },
      checkpoint: { seq: report.checkpointSeq, bytes: sizes.checkpointBytes },
      vats,
      ...(report.tornTail
        ? {
            tornTail: {
              segment: report.tornTail.segment,
              offset: report.tornTail.offset,
              bytes: report.tornTail.bytes,
              why: report.tornTail.why,
            },
          }
        : {}),
      cutTails,
      skippedCheckpoints: report.skippedCheckpoints,
      leftovers: storage.leftovers.map((l) => ({ path: l.path, what: l.what })),
    };
    io.stderr(`data directory ${dataDir}`);
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
    if (report.tornTail) {
      const t = report.tornTail;
      io.stderr(
        `torn write: the last ${t.bytes} bytes of log segment ${t.segment} (from byte ${t.offset}) are ${t.why}; the next start will cut them and keep them beside the log`,
      );
    }
    for (const cut of cutTails) {
      io.stderr(
        `cut earlier: ${cut.bytes} bytes from log segment ${cut.segment} at byte ${cut.offset}, kept in ${cut.location}`,
      );
    }
    for (const skipped of report.skippedCheckpoints) {
      io.stderr(`unusable checkpoint ${skipped.seq}: ${skipped.reason}`);
    }
    for (const leftover of storage.leftovers) {
      io.stderr(`left by an interrupted write: ${leftover.path} (${leftover.what})`);
    }
    io.stdout(JSON.stringify(summary));
    return 0;
  } finally {
    await reading.close();
  }
}
