/**
 * `cask run CLUSTER.json [--data DIR] [--allow-fetch-bundles]`: launches the cluster and
 * prints its bootstrap result; with a DIR that already holds a kernel, resumes it
 * instead (bootstrap is called once per kernel), unless the cluster says `forceReset`:
 * then that kernel is discarded (said on stderr) and the cluster launched afresh.
 * Through the daemon of DIR if one runs. Exits non-zero, naming each vat, if any vat
 * failed to start.
 */
import { parse } from '../args.ts';
import { printSettlement, suspendedLines, type CliIo } from '../io.ts';
import { asksForReset, discardKernel, refuseResetUnderDaemon } from '../reset.ts';
import { callKernel } from '../session.ts';

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    { data: { type: 'string' }, 'allow-fetch-bundles': { type: 'boolean' } },
    { min: 1, max: 1, names: 'one CLUSTER.json' },
  );
  const data = values.data;
  const configPath = positionals[0] as string;
  if (data !== undefined && (await asksForReset(configPath))) {
    await refuseResetUnderDaemon(data);
    await discardKernel(data, configPath, io);
  }
  const result = await callKernel(
    data,
    io,
    'run',
    {
      config: configPath,
      cwd: process.cwd(),
      allowFetch: values['allow-fetch-bundles'] === true,
    },
    { mayBeNew: true },
  );
  let code = 0;
  if (result.resumed) {
    io.stderr(
      `cask: resumed ${result.vats.length} vat(s) from ${data}; bootstrap is not called again`,
    );
    if (result.missing.length > 0) {
      io.stderr(
        `cask: warning: ${data} holds another cluster: ${configPath} names vats it does not have (${result.missing.join(', ')})`,
      );
    }
    io.stdout(
      JSON.stringify({
        ...(result.status as object),
        resumed: true,
        vats: result.vats,
      }),
    );
  } else if (result.bootstrap) {
    code = printSettlement(result.bootstrap, `bootstrap of "${result.bootstrapVat}"`, io);
  } else {
    io.stderr(
      `cask: bootstrap of "${result.bootstrapVat}" did not run: its vat did not start`,
    );
    code = 1;
  }
  const lines = suspendedLines(result.suspended, data);
  result.suspended.forEach((v, i) => {
    io.stderr(`cask: ${v.now ? 'failed to start: ' : ''}${lines[i] ?? ''}`);
  });
  return result.suspended.some((v) => v.now) ? 1 : code;
}
