/**
 * The `cask` command line. Results go to stdout, as JSON on the last line; everything
 * else (vat logs, progress, notes, errors) goes to stderr, so scripts can read the last
 * line. Every failure ends with one `cask: …` line and a non-zero exit: 1 when the
 * command failed, 2 for bad usage. `CASK_DEBUG=1` adds the stack of an unexpected error.
 */
import { UsageError } from './args.ts';
import { fork } from './commands/fork.ts';
import { history } from './commands/history.ts';
import { inspect } from './commands/inspect.ts';
import { label } from './commands/label.ts';
import { release } from './commands/release.ts';
import { restart } from './commands/restart.ts';
import { restore } from './commands/restore.ts';
import { run } from './commands/run.ts';
import { send } from './commands/send.ts';
import { start } from './commands/start.ts';
import { status } from './commands/status.ts';
import { stop } from './commands/stop.ts';
import { terminate } from './commands/terminate.ts';
import { unlabel } from './commands/unlabel.ts';
import { upgrade } from './commands/upgrade.ts';
import { versions } from './commands/versions.ts';
import { CommandFailed, type CliIo } from './io.ts';

export type { CliIo } from './io.ts';

export const USAGE = `usage: cask <command> [options]

commands:
  run CLUSTER.json [--data DIR] [--allow-fetch-bundles]
      Launch the cluster, call bootstrap on its bootstrap vat, print the result.
      With --data, the kernel's state is kept durably in DIR; if DIR already holds a
      kernel, it is resumed instead (bootstrap is not called again), unless the
      cluster says "forceReset": true, which discards that kernel and launches afresh
      (refused while a daemon runs on DIR). With --allow-fetch-bundles, http(s)
      bundleSpecs are fetched (else refused). Exits 1, naming each one, if a vat
      failed to start.
  start --data DIR [--foreground]
      Run the kernel of DIR as a daemon on a local socket (owner-only), so vats and
      their heaps stay up between commands. Prints its pid and socket once it answers;
      with --foreground it runs in this process until stopped.
  stop --data DIR
      Stop the daemon of DIR: no crank runs after it takes the request (what is queued
      stays queued); everything it acknowledged is durable. Exits 3 if none runs.
  status --data DIR
      Whether a daemon runs on DIR: its pid, socket, uptime, vats and crank. Exits 3
      if none runs.
  send --data DIR TARGET METHOD [JSON_ARG...] [--timeout SECONDS]
      Send METHOD(...args) to TARGET, the root object of the vat of that name or a
      kref an earlier send printed (ko7), and print the result. Arguments are JSON;
      {"$kref":"ko3"} passes a reference. Objects in the result stay callable until
      released. With --timeout, give up after that long (the message stays queued).
  release --data DIR (KREF... | --all)
      Let go of objects and promises earlier sends printed, so the kernel may collect
      them.
  inspect --data DIR
      Show the vats (and why any is suspended), their vatstores, the last durable crank,
      the log and checkpoint, and anything recovery found. Reads only: changes nothing.
  restart --data DIR VAT
      Start a new incarnation of VAT from its stored state; a suspended vat runs again,
      the messages that waited for it first.
  terminate --data DIR VAT [--reason TEXT] [--delete-state]
      End VAT: its promises and waiting messages are rejected. Its vatstore is kept
      unless --delete-state.
  upgrade --data DIR VAT (SOURCE | --bundle-id ID | --bundle-name NAME) [--parameters JSON]
      Replace the code of VAT (a name, or an id: v6), keeping its durable state. SOURCE
      is a vat source (.js, .ts), bundled here, or a bundle file (.json); --bundle-id
      goes back to a version it ran (an id versions prints), --bundle-name to a bundle
      of the cluster's. --parameters (a JSON object) replaces its parameters; without
      it they are kept. If the new version fails to start, the upgrade is rolled back,
      the old version runs on, and the reason is printed (exit 1).
  versions --data DIR VAT
      List the code versions of VAT: the incarnation each started at, its bundle id and
      the crank that upgraded to it. Reads only: changes nothing.
  history --data DIR [--vat VAT (--at CRANK [--prefix P] [--after KEY] [--limit N]
          | --key KEY)]
      List the retained commits (crank range, time, vats, delta size, labels) and the
      space history takes; with --vat, that vat's vatstore after commit CRANK, or the
      commits that changed KEY. Reads only.
  label --data DIR CRANK NAME
      Name the commit ending at CRANK; it is kept whatever the retention policy says.
  unlabel --data DIR NAME
      Remove the label NAME; its commit is then kept only while the policy keeps it.
  restore --data DIR CRANK
      Bring the whole kernel back to the state after the commit ending at CRANK, as a
      new commit (restore to the crank before it to undo). A daemon restores in place.
  fork --data DIR CRANK --to NEWDIR
      Write NEWDIR (new or empty), a data directory holding the kernel as of CRANK.
      DIR is not touched.
  help
      Show this help.

Every command with --data DIR but start talks to the daemon of DIR when one runs, and
opens DIR itself when none does.

Results are printed as JSON on the last line of stdout; exit status 0 on success,
1 on a failure (with the reason on stderr), 2 on bad usage, 3 from stop and status
when no daemon runs.`;

const processIo: CliIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
};

const COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  run,
  start,
  stop,
  status,
  send,
  release,
  inspect,
  restart,
  terminate,
  upgrade,
  versions,
  history,
  label,
  unlabel,
  restore,
  fork,
};

/** Runs one command; resolves to the process exit code. Never rejects. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command === undefined || ['help', '--help', '-h'].includes(command)) {
      io.stdout(USAGE);
      return command === undefined ? 2 : 0;
    }
    const handler = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!handler) throw new UsageError(`unknown command "${command}"`);
    return await handler(args, io);
  } catch (error) {
    return fail(error, io);
  }
}

/** The one `cask:` line for a failure, and its exit code. */
function fail(error: unknown, io: CliIo): number {
  if (error instanceof UsageError) {
    io.stderr(`${USAGE}\n`);
    io.stderr(`cask: ${error.message}`);
    return 2;
  }
  if (error instanceof CommandFailed) {
    io.stderr(`cask: ${error.message}`);
    return error.code;
  }
  if (process.env.CASK_DEBUG && error instanceof Error && error.stack) {
    io.stderr(error.stack);
  }
  io.stderr(`cask: ${describe(error)}`);
  return 1;
}

/** An error's message on one line (its class name if it has no message). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const message = error.message.replace(/\s*\n\s*/gu, ' ').trim();
  return message === '' ? error.name : message;
}
