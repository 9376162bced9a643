/**
 * The control surface: the requests the panel, tests and other extension pages send the
 * kernel (`chrome.runtime.sendMessage({ type: 'cask:request', method, params })`). Each
 * request is validated before anything runs: a malformed or oversized one is refused
 * with an error that names what was wrong, and changes nothing. Kernel operations run
 * on the kernel's serial lane, between cranks.
 *
 * Answers are `{ ok: true, result }` or `{ ok: false, error: { name, message } }`.
 */
import { validate } from '@metamask/superstruct';
import { METHODS } from './requests/index.ts';
import type { SurfaceHooks, SurfaceMethod } from './method.ts';

export {
  SurfaceError,
  type DefaultClusterReport,
  type SurfaceHooks,
  type SurfaceHost,
} from './method.ts';
export type { SettlementJson } from './requests/settlement.ts';
export {
  EVENTS_PORT,
  HISTORY,
  type CrankHistory,
  type CrankInfo,
  type KernelEvent,
  type ShippedBundle,
  type StatusReport,
  type UpgradeReport,
  type VatVersionsReport,
  type SurfaceAnswer,
  type VatReport,
  REQUEST,
} from '../surface-protocol/index.ts';
import { REQUEST, type SurfaceAnswer } from '../surface-protocol/index.ts';

/** Requests larger than this (as JSON) are refused unread. Inline vat bundles fit. */
export const MAX_REQUEST_BYTES = 8 * 1024 * 1024;

const byName = new Map<string, SurfaceMethod<unknown, unknown>>(
  METHODS.map((m) => [m.name, m as unknown as SurfaceMethod<unknown, unknown>]),
);

export const METHOD_NAMES: readonly string[] = [...byName.keys()];

export function isSurfaceRequest(message: unknown): boolean {
  return (message as { type?: unknown } | null)?.type === REQUEST;
}

class RequestError extends Error {
  override name = 'RequestError';
}

function refuse(error: unknown): SurfaceAnswer {
  if (error instanceof Error) {
    return { ok: false, error: { name: error.name, message: error.message } };
  }
  return { ok: false, error: { name: 'Error', message: String(error) } };
}

/** Validates and runs one request; never throws. */
export async function handleSurfaceRequest(
  message: unknown,
  hooks: SurfaceHooks,
): Promise<SurfaceAnswer> {
  try {
    const bytes = JSON.stringify(message)?.length ?? 0;
    if (bytes > MAX_REQUEST_BYTES) {
      throw new RequestError(
        `request refused: ${bytes} bytes of JSON, over the limit of ${MAX_REQUEST_BYTES}`,
      );
    }
    const { method: name, params = {} } = message as {
      method?: unknown;
      params?: unknown;
    };
    if (typeof name !== 'string') {
      throw new RequestError(
        `request refused: "method" must be a string, one of ${METHOD_NAMES.join(', ')}`,
      );
    }
    const method = byName.get(name);
    if (!method) {
      throw new RequestError(
        `request refused: unknown method ${JSON.stringify(name)}; the surface answers ${METHOD_NAMES.join(', ')}`,
      );
    }
    const [failure, valid] = validate(params, method.params, { coerce: true });
    if (failure) {
      const first = failure.failures()[0] ?? failure;
      const where = first.path.length > 0 ? `params.${first.path.join('.')}` : 'params';
      throw new RequestError(`${name} refused: ${where}: ${first.message}`);
    }
    return { ok: true, result: await method.handler(hooks, valid) };
  } catch (error) {
    return refuse(error);
  }
}
