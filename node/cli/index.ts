/**
 * The `cask` command line. Results go to stdout, as JSON on the last line; everything
 * else (vat logs, progress, errors) goes to stderr, so scripts can read the last line.
 */
import { capdataToJson } from '../../kernel/index.ts';
import { ClusterFileError, loadClusterFile } from '../cluster-file/index.ts';
import { makeNodeKernel } from '../host/index.ts';

const USAGE = `usage: cask <command> [options]

commands:
  run CLUSTER.json   launch the cluster, call bootstrap on its bootstrap vat, print the
                     result as JSON on the last line of stdout
  help               show this help
`;

export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

const processIo: CliIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
};

/** Runs one command; resolves to the process exit code. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'run':
      return run(args, io);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.stdout(USAGE);
      return command === undefined ? 2 : 0;
    default:
      io.stderr(`cask: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

async function run(args: string[], io: CliIo): Promise<number> {
  const [configPath, ...extra] = args;
  if (configPath === undefined || extra.length > 0) {
    io.stderr(`cask run: expected exactly one cluster config file\n\n${USAGE}`);
    return 2;
  }
  let cluster;
  try {
    cluster = await loadClusterFile(configPath);
  } catch (error) {
    if (error instanceof ClusterFileError) {
      io.stderr(`cask: ${error.message}`);
      return 1;
    }
    throw error;
  }
  const host = await makeNodeKernel();
  try {
    const { result } = await host.kernel.launchCluster(cluster);
    const settlement = await result;
    await host.kernel.whenIdle();
    const value = capdataToJson(settlement.data);
    if (settlement.rejected) {
      const message =
        typeof value === 'object' && value !== null && '$error' in value
          ? String((value as { $error: unknown }).$error)
          : JSON.stringify(value);
      io.stderr(`cask: bootstrap of "${cluster.bootstrap}" rejected: ${message}`);
      return 1;
    }
    io.stdout(JSON.stringify(value));
    return 0;
  } finally {
    await host.close();
  }
}
