/**
 * `cask run CLUSTER.json [--data DIR] [--allow-fetch-bundles]`: launches the cluster and
 * prints its bootstrap result; with a DIR that already holds a kernel, resumes it
 * instead, unless the cluster says `forceReset`: then that kernel is discarded (said on
 * stderr) and the cluster launched afresh. Exits non-zero, naming each vat, if any vat
 * failed to start.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Settlement } from '../../../kernel/index.ts';
import { loadClusterFile } from '../../cluster-file/index.ts';
import { openFileStorage } from '../../file-storage/index.ts';
import { readNodeStore } from '../../host/index.ts';
import { parse } from '../args.ts';
import { printSettlement, suspendedLines, type CliIo } from '../io.ts';
import { afterPromiseJobs, withKernel } from '../kernel.ts';

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    { data: { type: 'string' }, 'allow-fetch-bundles': { type: 'boolean' } },
    { min: 1, max: 1, names: 'one CLUSTER.json' },
  );
  const data = values.data;
  const configPath = positionals[0] as string;
  const cluster = await loadClusterFile(configPath, {
    allowFetch: values['allow-fetch-bundles'] === true,
  });
  if (cluster.forceReset === true && data !== undefined) {
    await discardKernel(data, configPath, io);
  }
  return withKernel(data, io, async ({ kernel, isNew }) => {
    const suspendedBefore = new Set(
      kernel.state
        .listVats()
        .filter((v) => v.state === 'suspended')
        .map((v) => v.vatId),
    );
    let code = 0;
    if (!isNew) {
      await kernel.resume();
      await kernel.whenIdle();
      const vats = kernel.state.listVats().filter((v) => v.state !== 'terminated');
      io.stderr(
        `cask: resumed ${vats.length} vat(s) from ${data}; bootstrap is not called again`,
      );
      const stored = new Set(kernel.state.listVats().map((v) => v.name));
      const missing = Object.keys(cluster.vats).filter((name) => !stored.has(name));
      if (missing.length > 0) {
        io.stderr(
          `cask: warning: ${data} holds another cluster: ${configPath} names vats it does not have (${missing.join(', ')})`,
        );
      }
      io.stdout(
        JSON.stringify({
          ...kernel.status(),
          resumed: true,
          vats: vats.map((v) => v.name),
        }),
      );
    } else {
      const { result } = await kernel.launchCluster(cluster);
      // The result, or the kernel idle without it: the bootstrap vat did not start, so
      // the message waits for it.
      let settled: Settlement | undefined;
      await Promise.race([
        result.then((s) => {
          settled = s;
        }),
        kernel.whenIdle(),
      ]);
      await afterPromiseJobs();
      await kernel.whenIdle();
      if (settled) {
        code = printSettlement(settled, `bootstrap of "${cluster.bootstrap}"`, io);
      } else {
        io.stderr(
          `cask: bootstrap of "${cluster.bootstrap}" did not run: its vat did not start`,
        );
        code = 1;
      }
    }
    const failed = kernel.state
      .listVats()
      .filter((v) => v.state === 'suspended' && !suspendedBefore.has(v.vatId));
    for (const line of suspendedLines(kernel.state, data)) {
      const failedNow = failed.some((v) => line.includes(`(${v.vatId})`));
      io.stderr(`cask: ${failedNow ? 'failed to start: ' : ''}${line}`);
    }
    return failed.length > 0 ? 1 : code;
  });
}

/**
 * `forceReset` over a directory that holds a kernel: the one case where Cask discards
 * state without a fault or a `terminate --delete-state`, because the config asked for it
 * in so many words; stderr says what went. The log goes before the checkpoints, so a
 * crash half way leaves a kernel recovery still opens (an older one), which the next
 * `cask run` resets again.
 */
async function discardKernel(data: string, configPath: string, io: CliIo): Promise<void> {
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
