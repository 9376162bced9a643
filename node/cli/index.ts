/**
 * The `cask` command line. Results go to stdout, as JSON on the last line; everything
 * else (vat logs, progress, errors) goes to stderr, so scripts can read the last line.
 */
import { parseArgs } from 'node:util';
import {
  capdataToJson,
  RecoveryError,
  StoreError,
  type Settlement,
} from '../../kernel/index.ts';
import { ClusterFileError, loadClusterFile } from '../cluster-file/index.ts';
import { DataDirectoryLockedError } from '../file-storage/index.ts';
import { makeNodeKernel, type NodeKernel } from '../host/index.ts';

const USAGE = `usage: cask <command> [options]

commands:
  run CLUSTER.json [--data DIR]
      Launch the cluster, call bootstrap on its bootstrap vat, print the result.
      With --data, the kernel's state is kept durably in DIR; if DIR already holds a
      kernel, it is resumed instead (bootstrap is not called again).
  send --data DIR VAT METHOD [JSON_ARG...]
      Resume the kernel in DIR, send METHOD(...args) to the root object of the vat named
      VAT, and print the result. Arguments are JSON; {"$kref":"ko3"} passes a reference.
  inspect --data DIR
      Show the vats, their vatstores, the last durable crank, the log and checkpoint.
  help
      Show this help.

Results are printed as JSON on the last line of stdout; exit status 0 on success,
1 on a failure (with the reason on stderr), 2 on bad usage.`;

export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

const processIo: CliIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
};

class UsageError extends Error {}

/** Runs one command; resolves to the process exit code. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'run':
        return await run(args, io);
      case 'send':
        return await send(args, io);
      case 'inspect':
        return await inspect(args, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`cask: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (
      error instanceof ClusterFileError ||
      error instanceof DataDirectoryLockedError ||
      error instanceof RecoveryError ||
      error instanceof StoreError
    ) {
      io.stderr(`cask: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

function parse(args: string[], positionals: { min: number; max: number; names: string }) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { data: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const count = parsed.positionals.length;
  if (count < positionals.min || count > positionals.max) {
    throw new UsageError(`expected ${positionals.names}`);
  }
  return { data: parsed.values.data, positionals: parsed.positionals };
}

function requireData(data: string | undefined, command: string): string {
  if (data === undefined) throw new UsageError(`${command} needs --data DIR`);
  return data;
}

async function withKernel<T>(
  dataDir: string | undefined,
  use: (host: NodeKernel) => Promise<T>,
): Promise<T> {
  const host = await makeNodeKernel(dataDir === undefined ? {} : { dataDir });
  try {
    return await use(host);
  } finally {
    await host.close();
  }
}

function printSettlement(settlement: Settlement, what: string, io: CliIo): number {
  const value = capdataToJson(settlement.data);
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

async function run(args: string[], io: CliIo): Promise<number> {
  const { data, positionals } = parse(args, {
    min: 1,
    max: 1,
    names: 'one CLUSTER.json',
  });
  const configPath = positionals[0] as string;
  const cluster = await loadClusterFile(configPath);
  return withKernel(data, async (host) => {
    const { kernel } = host;
    if (!host.isNew) {
      await kernel.resume();
      await kernel.whenIdle();
      const vats = kernel.state.listVats().filter((v) => v.state === 'running');
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
      return 0;
    }
    const { result } = await kernel.launchCluster(cluster);
    const settlement = await result;
    await kernel.whenIdle();
    return printSettlement(settlement, `bootstrap of "${cluster.bootstrap}"`, io);
  });
}

async function send(args: string[], io: CliIo): Promise<number> {
  const { data, positionals } = parse(args, {
    min: 2,
    max: Infinity,
    names: 'VAT METHOD [JSON_ARG...]',
  });
  const dataDir = requireData(data, 'send');
  const [vatName, method, ...jsonArgs] = positionals as [string, string, ...string[]];
  const callArgs = jsonArgs.map((text, i) => {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new UsageError(
        `argument ${i + 1} is not valid JSON (${(error as Error).message}): ${text}`,
      );
    }
  });
  return withKernel(dataDir, async (host) => {
    if (host.isNew) {
      io.stderr(
        `cask: ${dataDir} holds no kernel; start one with cask run CLUSTER.json --data ${dataDir}`,
      );
      return 1;
    }
    const { kernel } = host;
    const vat = kernel.state.getVatByName(vatName);
    if (!vat) {
      const names = kernel.state.listVats().map((v) => v.name);
      io.stderr(
        `cask: no vat named "${vatName}" in ${dataDir}; its vats: ${names.join(', ')}`,
      );
      return 1;
    }
    if (vat.state !== 'running') {
      io.stderr(
        `cask: vat "${vatName}" was terminated: ${vat.reason ?? 'no reason recorded'}`,
      );
      return 1;
    }
    await kernel.resume();
    const settlement = await kernel.queueMessage(vat.rootKref, method, callArgs);
    await kernel.whenIdle();
    return printSettlement(settlement, `${vatName}.${method}`, io);
  });
}

async function inspect(args: string[], io: CliIo): Promise<number> {
  const { data } = parse(args, { min: 0, max: 0, names: 'no positional arguments' });
  const dataDir = requireData(data, 'inspect');
  return withKernel(dataDir, async (host) => {
    const { kernel, durability, storage } = host;
    const vats = kernel.state.listVats().map((v) => ({
      name: v.name,
      vatId: v.vatId,
      state: v.state,
      incarnation: v.incarnation,
      vatstore: kernel.state.vatstoreStats(v.vatId),
      ...(v.reason === null ? {} : { reason: v.reason }),
    }));
    const stats = durability?.stats();
    const sizes = await storage?.sizes();
    const report = {
      dataDir,
      lastDurableCrank: stats?.lastDurableCrank ?? kernel.status().durableCrank,
      runQueueLength: kernel.status().runQueueLength,
      log: {
        records: stats?.logRecordsSinceCheckpoint ?? 0,
        bytes: sizes?.logBytes ?? 0,
        lastSeq: stats?.lastSeq ?? 0,
      },
      checkpoint: { seq: stats?.checkpointSeq ?? 0, bytes: sizes?.checkpointBytes ?? 0 },
      vats,
    };
    io.stderr(`data directory ${dataDir}`);
    io.stderr(
      `last durable crank ${report.lastDurableCrank}, run queue ${report.runQueueLength}`,
    );
    io.stderr(
      `log: ${report.log.records} record(s), ${report.log.bytes} bytes since checkpoint ${report.checkpoint.seq} (${report.checkpoint.bytes} bytes)`,
    );
    for (const v of vats) {
      io.stderr(
        `  ${v.name.padEnd(16)} ${v.vatId.padEnd(5)} ${v.state.padEnd(10)} incarnation ${v.incarnation}  ${v.vatstore.keys} keys, ${v.vatstore.bytes} bytes`,
      );
    }
    io.stdout(JSON.stringify(report));
    return 0;
  });
}
