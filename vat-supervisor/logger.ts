/**
 * The vat's log: `vatPowers.logger` in ocap-kernel's shape (@metamask/logger's Logger:
 * `log`, `debug`, `info`, `warn`, `error`, and `subLogger({ tags } | tag)`, whose tags
 * accumulate), and SwingSet's `vatPowers.testLog`.
 *
 * A line is rendered to text inside the vat and posted to the kernel on its own, not as a
 * syscall: it is not part of the crank's reply and changes no state. Logging never
 * throws into the vat (a value that cannot be rendered is shown as such) and is bounded
 * (kernel/protocol VAT_LOG_LIMITS): a line's text and tags are cut, and past the limit of
 * lines in one crank the rest are dropped, and counted in one last line.
 */
import {
  VAT_LOG_LIMITS,
  cutLogText,
  type VatLog,
  type VatLogLevel,
} from '../kernel/protocol/index.ts';

export type LogLine = Omit<VatLog, 'type'>;

/** @metamask/logger's option bag (transports are the host's business here). */
export interface LoggerOptions {
  tags?: string[];
}

export interface VatLogger {
  log(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  subLogger(options?: LoggerOptions | string): VatLogger;
}

/** One argument as text: strings as they are, errors by their stack, the rest as JSON. */
export function renderArg(arg: unknown): string {
  try {
    if (typeof arg === 'string') return arg;
    if (arg instanceof Error) return arg.stack ?? `${arg.name}: ${arg.message}`;
    if (arg === undefined) return 'undefined';
    if (typeof arg === 'bigint') return `${arg}n`;
    if (typeof arg === 'symbol' || typeof arg === 'function') return String(arg);
    const json = JSON.stringify(arg, (_key, value: unknown) =>
      typeof value === 'bigint' ? `${value}n` : value,
    );
    return json ?? String(arg);
  } catch {
    return '[unprintable value]';
  }
}

export function renderArgs(args: readonly unknown[], separator = ' '): string {
  let text = '';
  for (let i = 0; i < args.length; i += 1) {
    if (i > 0) text += separator;
    text += renderArg(args[i]);
    // Enough to fill a line: the rest would be cut anyway.
    if (text.length > VAT_LOG_LIMITS.textLength) break;
  }
  return cutLogText(text);
}

/**
 * Counts the lines of one crank. The kernel takes `linesPerDelivery` lines between two
 * replies; one is kept for the line that says how many were dropped.
 */
export class LogBudget {
  readonly #emit: (line: LogLine) => void;
  #lines = 0;
  #dropped = 0;

  constructor(emit: (line: LogLine) => void) {
    this.#emit = emit;
  }

  write(line: LogLine): void {
    if (this.#lines >= VAT_LOG_LIMITS.linesPerDelivery - 1) {
      this.#dropped += 1;
      return;
    }
    this.#lines += 1;
    this.#emit(line);
  }

  /** The crank ends (call before its reply is posted). */
  endCrank(): void {
    if (this.#dropped > 0) {
      this.#emit({
        level: 'warn',
        tags: ['cask'],
        text: `${this.#dropped} log lines dropped: more than ${VAT_LOG_LIMITS.linesPerDelivery - 1} in one crank`,
      });
    }
    this.#lines = 0;
    this.#dropped = 0;
  }
}

function tagsOf(options: LoggerOptions | string | undefined): string[] {
  if (typeof options === 'string') return [options];
  if (options === undefined || options === null) return [];
  if (typeof options !== 'object' || !Array.isArray(options.tags)) return [];
  return options.tags.map((tag) => String(tag));
}

/** Tags accumulate, each once, in order; bounded as the kernel bounds them. */
function mergeTags(tags: readonly string[], more: readonly string[]): string[] {
  const merged = [...tags];
  for (const tag of more) {
    if (!merged.includes(tag)) merged.push(tag);
  }
  return merged
    .slice(0, VAT_LOG_LIMITS.tags)
    .map((tag) => tag.slice(0, VAT_LOG_LIMITS.tagLength));
}

export function makeVatLogger(
  budget: LogBudget,
  tags: readonly string[] = [],
): VatLogger {
  const method =
    (level: VatLogLevel) =>
    (...args: unknown[]): void => {
      try {
        budget.write({ level, tags: [...tags], text: renderArgs(args) });
      } catch {
        // A log line never breaks the crank that wrote it.
      }
    };
  return harden({
    log: method('log'),
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    subLogger: (options?: LoggerOptions | string) =>
      makeVatLogger(budget, mergeTags(tags, tagsOf(options))),
  });
}

/**
 * SwingSet's testLog: its arguments joined with nothing between them (strings as they
 * are, anything else as JSON), as SwingSet's kernel renders them; level `test`.
 */
export function makeTestLog(budget: LogBudget): (...args: unknown[]) => void {
  return harden((...args: unknown[]): void => {
    try {
      budget.write({ level: 'test', tags: [], text: renderArgs(args, '') });
    } catch {
      // Never breaks the crank.
    }
  });
}
