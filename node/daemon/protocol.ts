/**
 * The daemon's wire protocol: named, versioned JSON messages, one per line, each
 * validated with superstruct at both ends (as kernel/protocol does for vats).
 *
 * A client sends `{ protocol: 'cask-daemon', version, kind: 'request', id, method,
 * params }`; the daemon answers each request exactly once with `{ protocol, version,
 * kind: 'answer', id, ok: true, result }` or `{ …, ok: false, error: { name, message } }`.
 * Requests on one connection may overlap; answers carry the request's id. Each method's
 * params and result have their own structs (./requests). See docs/daemon.md.
 */
import {
  literal,
  object,
  record,
  size,
  string,
  unknown,
  validate,
  type Infer,
  type Struct,
} from '@metamask/superstruct';

export const PROTOCOL = 'cask-daemon';
export const PROTOCOL_VERSION = 1;

/** The longest line either end reads: a longer one is refused and its connection closed. */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024;

const envelope = {
  protocol: literal(PROTOCOL),
  version: literal(PROTOCOL_VERSION),
  id: size(string(), 1, 64),
};

export const RequestStruct = object({
  ...envelope,
  kind: literal('request'),
  method: size(string(), 1, 64),
  params: record(string(), unknown()),
});
export type DaemonRequest = Infer<typeof RequestStruct>;

const ErrorStruct = object({ name: string(), message: string() });
export type WireError = Infer<typeof ErrorStruct>;

const OkAnswerStruct = object({
  ...envelope,
  kind: literal('answer'),
  ok: literal(true),
  result: unknown(),
});
const ErrorAnswerStruct = object({
  ...envelope,
  kind: literal('answer'),
  ok: literal(false),
  error: ErrorStruct,
});
export type DaemonAnswer = Infer<typeof OkAnswerStruct> | Infer<typeof ErrorAnswerStruct>;

/** What a message that fails validation is refused with: names the field. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** A refusal the caller caused (an unknown vat, a terminated vat, a bad kref…). */
export class RequestError extends Error {
  override name = 'RequestError';
}

function firstFailure(
  what: string,
  error: { path: unknown[]; message: string } | undefined,
): ProtocolError {
  const path = error?.path.join('.') ?? '';
  return new ProtocolError(
    `invalid ${what}${path === '' ? '' : ` at ${path}`}: ${error?.message ?? 'unknown'}`,
  );
}

/** A parsed line, checked against a struct; throws a ProtocolError naming the field. */
export function parseWith<T>(struct: Struct<T>, value: unknown, what: string): T {
  // coerce: params may have defaults.
  const [error, valid] = validate(value, struct, { coerce: true });
  if (error) throw firstFailure(what, error.failures()[0]);
  return valid;
}

/**
 * A request line: JSON, then its envelope. Speaks first of the version, so an old
 * client and a new daemon say what is wrong rather than which field.
 */
export function parseRequest(line: string): DaemonRequest {
  const value = parseJson(line, 'request');
  if (typeof value === 'object' && value !== null) {
    const { protocol, version } = value as Record<string, unknown>;
    if (protocol === PROTOCOL && version !== PROTOCOL_VERSION) {
      throw new ProtocolError(
        `this daemon speaks ${PROTOCOL} version ${PROTOCOL_VERSION}, not ${JSON.stringify(version)}; use a cask of the same version`,
      );
    }
  }
  return parseWith(RequestStruct, value, 'request');
}

export function parseAnswer(line: string): DaemonAnswer {
  const value = parseJson(line, 'answer');
  const ok = (value as { ok?: unknown } | null)?.ok;
  return ok === true
    ? parseWith(OkAnswerStruct, value, 'answer')
    : parseWith(ErrorAnswerStruct, value, 'answer');
}

function parseJson(line: string, what: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch (error) {
    throw new ProtocolError(`a ${what} that is not JSON: ${(error as Error).message}`);
  }
}

export const request = (
  id: string,
  method: string,
  params: Record<string, unknown>,
): DaemonRequest => ({
  protocol: PROTOCOL,
  version: PROTOCOL_VERSION,
  kind: 'request',
  id,
  method,
  params,
});

export const answerOk = (id: string, result: unknown): DaemonAnswer => ({
  protocol: PROTOCOL,
  version: PROTOCOL_VERSION,
  kind: 'answer',
  id,
  ok: true,
  result,
});

export const answerError = (id: string, error: WireError): DaemonAnswer => ({
  protocol: PROTOCOL,
  version: PROTOCOL_VERSION,
  kind: 'answer',
  id,
  ok: false,
  error,
});

/**
 * Splits a byte stream into lines, refusing one longer than MAX_FRAME_BYTES (the
 * connection is then closed: where the next line starts is unknown).
 */
export class LineReader {
  #pending = '';
  #pendingBytes = 0;
  readonly #onLine: (line: string) => void;

  constructor(onLine: (line: string) => void) {
    this.#onLine = onLine;
  }

  /** Feeds a chunk; throws a ProtocolError if a line grows past the limit. */
  push(chunk: string): void {
    let rest = chunk;
    let newline = rest.indexOf('\n');
    while (newline !== -1) {
      const line = this.#pending + rest.slice(0, newline);
      this.#pending = '';
      this.#pendingBytes = 0;
      rest = rest.slice(newline + 1);
      if (Buffer.byteLength(line) > MAX_FRAME_BYTES) throw tooLong();
      if (line.trim() !== '') this.#onLine(line);
      newline = rest.indexOf('\n');
    }
    this.#pending += rest;
    this.#pendingBytes += Buffer.byteLength(rest);
    if (this.#pendingBytes > MAX_FRAME_BYTES) throw tooLong();
  }
}

const tooLong = () =>
  new ProtocolError(`a message longer than ${MAX_FRAME_BYTES} bytes (the limit)`);

export const encode = (message: DaemonRequest | DaemonAnswer): string =>
  `${JSON.stringify(message)}\n`;
