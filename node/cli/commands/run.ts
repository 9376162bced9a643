/**
 * `cask run CLUSTER.json [--data DIR]`: launches the cluster and prints its bootstrap
 * result; with a DIR that already holds a kernel, resumes it instead. Exits non-zero,
 * naming each vat, if any vat failed to start.
 */
import type { Settlement } from '../../../kernel/index.ts';
import { loadClusterFile } from '../../cluster-file/index.ts';
import { parse } from '../args.ts';
import { printSettlement, suspendedLines, type CliIo } from '../io.ts';
import { afterPromiseJobs, withKernel } from '../kernel.ts';

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    { data: { type: 'string' } },
    { min: 1, max: 1, names: 'one CLUSTER.json' },
  );
  const data = values.data;
  const configPath = positionals[0] as string;
  const cluster = await loadClusterFile(configPath);
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
