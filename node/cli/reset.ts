/** What `forceReset` in a cluster file does to a data directory before `cask run`. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findDaemon } from '../daemon/index.ts';
import { openFileStorage } from '../file-storage/index.ts';
import { readNodeStore } from '../host/index.ts';
import { CommandFailed, type CliIo } from './io.ts';

/** Whether the cluster file asks for a reset (read as JSON only; it is checked later). */
export async function asksForReset(configPath: string): Promise<boolean> {
  try {
    const config = JSON.parse(await readFile(configPath, 'utf8')) as unknown;
    return (
      typeof config === 'object' &&
      config !== null &&
      (config as { forceReset?: unknown }).forceReset === true
    );
  } catch {
    // An unreadable or malformed file is reported by the cluster-file loader.
    return false;
  }
}

/** A running daemon holds the kernel open: it cannot be discarded under it. */
export async function refuseResetUnderDaemon(data: string): Promise<void> {
  const daemon = await findDaemon(data).catch(() => undefined);
  if (daemon) {
    daemon.client.close();
    throw new CommandFailed(
      `forceReset would discard the kernel a daemon runs on ${data}; stop it first (cask stop --data ${data})`,
    );
  }
}

/**
 * `forceReset` over a directory that holds a kernel: the one case where Cask discards
 * state without a fault or a `terminate --delete-state`, because the config asked for it
 * in so many words; stderr says what went. The log goes before the checkpoints, so a
 * crash half way leaves a kernel recovery still opens (an older one), which the next
 * `cask run` resets again.
 */
export async function discardKernel(
  data: string,
  configPath: string,
  io: CliIo,
): Promise<void> {
  if (!existsSync(join(data, 'log')) && !existsSync(join(data, 'checkpoints'))) return;
  const reading = await readNodeStore(data);
  let vats: string[];
  let crank: number;
  try {
    vats = reading.state.listVats().map((v) => v.name);
    crank = reading.report.lastSeq;
  } finally {
    await reading.close();
  }
  const storage = await openFileStorage(data);
  try {
    for (const segment of await storage.listLogSegments()) {
      await storage.deleteLogSegment(segment);
    }
    for (const checkpoint of await storage.listCheckpoints()) {
      await storage.deleteCheckpoint(checkpoint);
    }
  } finally {
    await storage.close();
  }
  io.stderr(
    `cask: forceReset in ${configPath}: discarded the kernel in ${data} (${vats.length} vat(s)${vats.length ? `: ${vats.join(', ')}` : ''}, their vatstores and queues, through log record ${crank}); launching afresh`,
  );
}
