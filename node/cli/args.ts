/** Command-line arguments: parsing, and the errors that mean "used wrongly" (exit 2). */
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  override name = 'UsageError';
}

type Flags = Record<string, { type: 'string' | 'boolean' }>;

/** Parses one command's arguments: its flags, and between `min` and `max` positionals. */
export function parse<F extends Flags>(
  args: string[],
  flags: F,
  positionals: { min: number; max: number; names: string },
): {
  values: { [K in keyof F]?: F[K]['type'] extends 'string' ? string : boolean };
  positionals: string[];
} {
  let parsed;
  try {
    parsed = parseArgs({ args, options: flags, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const count = parsed.positionals.length;
  if (count < positionals.min || count > positionals.max) {
    throw new UsageError(`expected ${positionals.names}`);
  }
  return {
    values: parsed.values as {
      [K in keyof F]?: F[K]['type'] extends 'string' ? string : boolean;
    },
    positionals: parsed.positionals,
  };
}

export function requireData(data: string | undefined, command: string): string {
  if (data === undefined || data === '')
    throw new UsageError(`${command} needs --data DIR`);
  return data;
}

/** `--timeout SECONDS` as milliseconds. */
export function timeoutOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400) {
    throw new UsageError(
      `--timeout takes a number of seconds above 0 and at most 86400, not ${JSON.stringify(text)}`,
    );
  }
  return Math.round(seconds * 1000);
}

/** Parses each JSON argument, naming the one that is not JSON. */
export function jsonArgs(texts: string[]): unknown[] {
  return texts.map((text, i) => {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new UsageError(
        `argument ${i + 1} is not valid JSON (${(error as Error).message}): ${text}`,
      );
    }
  });
}

/** A crank number given on the command line (`what` names the argument). */
export function crankOf(text: string, what: string): number {
  const crank = /^\d{1,15}$/u.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(crank)) {
    throw new UsageError(
      `${what} is a crank number (see cask history), not ${JSON.stringify(text)}`,
    );
  }
  return crank;
}
