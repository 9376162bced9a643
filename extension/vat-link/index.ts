/**
 * The link between the kernel (background service worker) and the vat host (offscreen
 * document): how the service worker asks for a vat iframe, gets back a MessagePort to
 * it, and hears that a vat's host was lost. Kernel↔vat traffic itself never passes
 * here; it flows over the vat's own port.
 *
 *   offscreen → worker   `hello` on `navigator.serviceWorker` with the control port and
 *                        the document's `hostId`. Sent when the offscreen document loads
 *                        and whenever the worker asks (`reconnect` runtime message): a
 *                        restarted worker has lost every port, so each boot starts with
 *                        a fresh control port. With each hello the document also opens
 *                        a runtime port named `cask:vat-host/<hostId>` to the worker and
 *                        never uses it: its `onDisconnect` is how the worker learns that
 *                        the document has gone (closed, crashed, reloaded).
 *   worker → offscreen   `launchVat` / `stopVat` on the control port.
 *   offscreen → worker   `vatLaunched` (with the vat's port) / `vatLaunchFailed`, and
 *                        `vatLost` when a launched vat's iframe stopped answering its
 *                        heartbeat or its vat worker died.
 *
 * Every launch has an id (`launchId`, unique per worker boot); later messages about
 * that iframe name it, so that news of an old iframe is never taken for a newer one of
 * the same vat.
 *
 * Inside the vat page (extension/vat-iframe): the offscreen document posts the iframe
 * `vat-port` with two ports, the kernel's and a liveness port. The iframe runs the vat
 * in a dedicated worker, to which it hands the kernel port, and gives the liveness port
 * to a heartbeat worker, which answers `ping` with `pong` and passes on the iframe's
 * `vatExit` if the vat's worker fails. Over the kernel port, besides the protocol
 * (kernel/protocol), the vat may post one `vatExit` when its supervisor can no longer
 * go on.
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
/** Runtime port from the offscreen document, named `${VAT_HOST_PORT}/${hostId}`. */
export const VAT_HOST_PORT = 'cask:vat-host';
/** Window message from the offscreen document to a vat iframe, with the vat's ports. */
export const VAT_PORT = 'cask:vat-port';

export const HelloStruct = object({ type: literal(HELLO), hostId: string() });
export type Hello = Infer<typeof HelloStruct>;

const LaunchVatStruct = object({
  type: literal('launchVat'),
  launchId: number(),
  vatId: string(),
});
const StopVatStruct = object({
  type: literal('stopVat'),
  launchId: number(),
  vatId: string(),
});
export const WorkerToOffscreenStruct = union([LaunchVatStruct, StopVatStruct]);
export type WorkerToOffscreen = Infer<typeof WorkerToOffscreenStruct>;

const VatLaunchedStruct = object({
  type: literal('vatLaunched'),
  launchId: number(),
  vatId: string(),
});
const VatLaunchFailedStruct = object({
  type: literal('vatLaunchFailed'),
  launchId: number(),
  vatId: string(),
  error: string(),
});
const VatLostStruct = object({
  type: literal('vatLost'),
  launchId: number(),
  vatId: string(),
  reason: string(),
});
export const OffscreenToWorkerStruct = union([
  VatLaunchedStruct,
  VatLaunchFailedStruct,
  VatLostStruct,
]);
export type OffscreenToWorker = Infer<typeof OffscreenToWorkerStruct>;

export const VatExitStruct = object({ type: literal('vatExit'), reason: string() });
export type VatExit = Infer<typeof VatExitStruct>;

/** On a vat iframe's liveness port: the offscreen document's ping, the iframe's pong. */
const PingStruct = object({ type: literal('ping'), seq: number() });
const PongStruct = object({ type: literal('pong'), seq: number() });
export type Ping = Infer<typeof PingStruct>;
export const FrameToHostStruct = union([PongStruct, VatExitStruct]);
export type FrameToHost = Infer<typeof FrameToHostStruct>;

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

/** A message of a vat iframe on its liveness port, or undefined for anything else. */
export function parseFrameToHost(value: unknown): FrameToHost | undefined {
  const [failure, message] = validate(value, FrameToHostStruct);
  return failure ? undefined : message;
}

export function isPing(value: unknown): value is Ping {
  return validate(value, PingStruct)[0] === undefined;
}

export function isHello(value: unknown): value is Hello {
  return validate(value, HelloStruct)[0] === undefined;
}

export function isVatExit(value: unknown): value is VatExit {
  // Asked of every message on a vat's port: only a vatExit is worth a validation (a
  // failed one builds a StructError, which cost more than the rest of the check).
  if ((value as { type?: unknown } | null)?.type !== 'vatExit') return false;
  return validate(value, VatExitStruct)[0] === undefined;
}

/** The runtime port name of the offscreen document with this hostId. */
export function vatHostPortName(hostId: string): string {
  return `${VAT_HOST_PORT}/${hostId}`;
}

/** The hostId of a vat-host runtime port's name, or undefined for any other port. */
export function hostIdOfPort(name: string): string | undefined {
  const prefix = `${VAT_HOST_PORT}/`;
  return name.startsWith(prefix) ? name.slice(prefix.length) : undefined;
}
