/**
 * Export and import of the kernel's whole state, for the panel. The bytes travel over a
 * MessagePort the page posts to the worker (structured clone, binary as it is), not
 * over chrome.runtime messaging, which is JSON and capped by the surface.
 *
 *   page → worker  { type: 'cask:export' }                 + a reply port
 *   page → worker  { type: 'cask:import', bytes }          + a reply port
 *   page → worker  { type: 'cask:fork', crank }            + a reply port (the kernel as
 *                  of that crank, as a state file; docs/history.md)
 *   worker → page  { ok: true, … } | { ok: false, error }  on the reply port
 */
export const EXPORT = 'cask:export';
export const IMPORT = 'cask:import';
export const FORK = 'cask:fork';

/** Above this an import is refused unread (a state file is about the database's size). */
export const MAX_IMPORT_BYTES = 512 * 1024 * 1024;

export type TransferRequest =
  | { type: typeof EXPORT }
  | { type: typeof IMPORT; bytes: Uint8Array }
  /** `crank` as the page sent it: checked by the worker, which names what was wrong. */
  | { type: typeof FORK; crank: unknown };

export function asTransferRequest(data: unknown): TransferRequest | undefined {
  const type = (data as { type?: unknown } | null)?.type;
  if (type === EXPORT) return { type };
  if (type === FORK) {
    return { type, crank: (data as { crank?: unknown }).crank };
  }
  if (type === IMPORT) {
    const bytes = (data as { bytes?: unknown }).bytes;
    if (bytes instanceof Uint8Array) return { type, bytes };
    if (bytes instanceof ArrayBuffer) return { type, bytes: new Uint8Array(bytes) };
    return { type, bytes: new Uint8Array(0) };
  }
  return undefined;
}
