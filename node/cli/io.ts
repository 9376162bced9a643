/**
 * What the CLI says, and how: results as JSON on the last line of stdout, everything else
 * on stderr, each failure as one `cask: …` line.
 */
import type { RecoveryReport } from '../../kernel/index.ts';
import type { FileStorage } from '../file-storage/index.ts';

export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

/** A failure the command has already explained; its exit code. */
export class CommandFailed extends Error {
  override name = 'CommandFailed';
  readonly code: number;
  constructor(message: string, code = 1) {
    super(message);
    this.code = code;
  }
}

/** A settlement as JSON: its value, references as `{ "$kref": "ko3" }`. */
export interface SettlementJson {
  rejected: boolean;
  value: unknown;
}

/** Prints a settlement: the value on stdout, or the rejection as one `cask:` line. */
export function printSettlement(
  settlement: SettlementJson,
  what: string,
  io: CliIo,
): number {
  const { value } = settlement;
  if (settlement.rejected) {
    const message =
      typeof value === 'object' && value !== null && '$error' in value
        ? String((value as { $error: unknown }).$error)
        : JSON.stringify(value);
    io.stderr(`cask: ${what} rejected: ${message}`);
    return 1;
  }
  io.stdout(JSON.stringify(value));
  return 0;
}

/** What recovery did that a person should know: cut bytes, skipped checkpoints, leftovers. */
export function printRecoveryNotes(
  report: RecoveryReport | undefined,
  storage: FileStorage | undefined,
  io: CliIo,
): void {
  const torn = report?.tornTail;
  if (torn?.cut) {
    io.stderr(
      `cask: cut ${torn.bytes} bytes of a torn write (${torn.why}) from the end of log segment ${torn.segment} at byte ${torn.offset}, after a crash; they are kept in ${torn.cut.location}`,
    );
  }
  const completed = report?.restoreCompleted;
  if (completed?.written) {
    io.stderr(
      `cask: a restore (crank ${completed.crank}, seq ${completed.seq}) was interrupted after its checkpoint and before its log record; the record was written from the checkpoint`,
    );
  }
  for (const skipped of report?.skippedCheckpoints ?? []) {
    io.stderr(
      `cask: checkpoint ${skipped.seq} could not be used (${skipped.reason}); recovered from an earlier one and the log`,
    );
  }
  for (const leftover of storage?.leftovers ?? []) {
    if (leftover.removed) {
      io.stderr(
        `cask: removed ${leftover.path}, left by an interrupted write (${leftover.what})`,
      );
    }
  }
}

/** One line per suspended vat, with what to do about it. */
export function suspendedLines(
  vats: Array<{ name: string; vatId: string; reason: string | null }>,
  dataDir: string | undefined,
): string[] {
  return vats.map(
    (v) =>
      `vat "${v.name}" (${v.vatId}) is suspended: ${v.reason ?? ''}${
        dataDir === undefined
          ? ''
          : `; restart it with: cask restart --data ${dataDir} ${v.name} (or cask terminate)`
      }`,
  );
}
