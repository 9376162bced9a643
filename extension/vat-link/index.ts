/**
 * The link between the kernel (background service worker) and the vat host (offscreen
 * document): how the service worker asks for a vat iframe and gets back a MessagePort
 * to it. Kernel↔vat traffic itself never passes here; it flows over the vat's own port.
 *
 *   offscreen → worker   `hello` on `navigator.serviceWorker` with the control port. Sent
 *                        when the offscreen document loads and whenever the worker asks
 *                        (`reconnect` runtime message): a restarted worker has lost every
 *                        port, so each boot starts with a fresh control port.
 *   worker → offscreen   `launchVat` / `stopVat` on the control port.
 *   offscreen → worker   `vatLaunched` (with the vat's port) / `vatLaunchFailed`.
 *
 * Over a vat's own port, besides the protocol (kernel/protocol), the vat page may post
 * one `vatExit` when its supervisor can no longer go on.
 */
import {
  literal,
  number,
  object,
  string,
  union,
  validate,
  type Infer,
} from '@metamask/superstruct';

/** chrome.runtime message from the worker: "send me a control port". */
export const RECONNECT = 'cask:reconnect';
/** navigator.serviceWorker message from the offscreen document, with the control port. */
export const HELLO = 'cask:hello';
/** Window message from the offscreen document to a vat iframe, with the vat's port. */
export const VAT_PORT = 'cask:vat-port';

const LaunchVatStruct = object({
  type: literal('launchVat'),
  requestId: number(),
  vatId: string(),
});
const StopVatStruct = object({ type: literal('stopVat'), vatId: string() });
export const WorkerToOffscreenStruct = union([LaunchVatStruct, StopVatStruct]);
export type WorkerToOffscreen = Infer<typeof WorkerToOffscreenStruct>;

const VatLaunchedStruct = object({
  type: literal('vatLaunched'),
  requestId: number(),
  vatId: string(),
});
const VatLaunchFailedStruct = object({
  type: literal('vatLaunchFailed'),
  requestId: number(),
  vatId: string(),
  error: string(),
});
export const OffscreenToWorkerStruct = union([VatLaunchedStruct, VatLaunchFailedStruct]);
export type OffscreenToWorker = Infer<typeof OffscreenToWorkerStruct>;

export const VatExitStruct = object({ type: literal('vatExit'), reason: string() });
export type VatExit = Infer<typeof VatExitStruct>;

export function parseWorkerToOffscreen(value: unknown): WorkerToOffscreen {
  const [failure, message] = validate(value, WorkerToOffscreenStruct);
  if (failure)
    throw new TypeError(`bad message from the service worker: ${failure.message}`);
  return message;
}

export function parseOffscreenToWorker(value: unknown): OffscreenToWorker {
  const [failure, message] = validate(value, OffscreenToWorkerStruct);
  if (failure)
    throw new TypeError(`bad message from the offscreen document: ${failure.message}`);
  return message;
}

export function isVatExit(value: unknown): value is VatExit {
  return validate(value, VatExitStruct)[0] === undefined;
}
