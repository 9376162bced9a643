/** How a command opens the kernel of a data directory (or one in memory) and closes it. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeNodeKernel, type NodeKernel } from '../host/index.ts';
import { printRecoveryNotes, type CliIo } from './io.ts';

/**
 * Runs `use` with a kernel: recovered from `dataDir`, or in memory. The kernel reports
 * a stop through the command's own error, not on its own. Closing runs no crank.
 */
export async function withKernel<T>(
  dataDir: string | undefined,
  io: CliIo,
  use: (host: NodeKernel) => Promise<T>,
): Promise<T> {
  const host = await makeNodeKernel({
    ...(dataDir === undefined ? {} : { dataDir }),
    onStop: () => undefined,
  });
  printRecoveryNotes(host.recovery, host.storage, io);
  try {
    return await use(host);
  } finally {
    await host.close();
  }
}

/** The kernel of `dataDir`, refusing (and creating nothing in) a directory with none. */
export async function withExistingKernel<T>(
  dataDir: string,
  io: CliIo,
  use: (host: NodeKernel) => Promise<T>,
): Promise<T> {
  const none = () =>
    new Error(
      `${dataDir} holds no kernel; start one with cask run CLUSTER.json --data ${dataDir}`,
    );
  if (!existsSync(join(dataDir, 'log'))) throw none();
  return withKernel(dataDir, io, async (host) => {
    if (host.isNew) throw none();
    return use(host);
  });
}
