/**
 * The surface's client, for extension pages (the panel): one request to the kernel's control surface. Throws
 * an Error carrying the surface's error name and message when the request is refused.
 */
import browser from 'webextension-polyfill';
import {
  EVENTS_PORT,
  REQUEST,
  type KernelEvent,
  type SurfaceAnswer,
} from '../surface-protocol/index.ts';

export type {
  CrankInfo,
  HistoryPage,
  KernelEvent,
  VatLogInfo,
  ShippedBundle,
  StatusReport,
  UpgradeReport,
  VatReport,
  VatVersionReport,
  VatVersionsReport,
} from '../surface-protocol/index.ts';
export type {
  ClistEntryReport,
  MessageReport,
  ObjectsPage,
  PromiseReport,
  PromisesPage,
  QueueItemReport,
  RunQueuePage,
  TimerReport,
  TimersPage,
} from '../surface-protocol/index.ts';
export { HISTORY } from '../surface-protocol/index.ts';

export async function askKernel<R = unknown>(
  method: string,
  params: Record<string, unknown> = {},
): Promise<R> {
  const answer = (await browser.runtime.sendMessage({
    type: REQUEST,
    method,
    params,
  })) as SurfaceAnswer | undefined;
  if (answer === undefined) throw new Error('the Cask service worker did not answer');
  if (!answer.ok) {
    const error = new Error(answer.error.message);
    error.name = answer.error.name;
    throw error;
  }
  return answer.result as R;
}

/**
 * Opens the kernel's live event stream (the new cranks at most ten times a second, a
 * status event after changes at most four a second); returns a function that closes it. `onDisconnect`
 * is called if the worker goes away (it stops when idle): reconnect to go on.
 */
export function subscribeKernelEvents(
  onEvent: (event: KernelEvent) => void,
  onDisconnect?: () => void,
): () => void {
  const port = browser.runtime.connect({ name: EVENTS_PORT });
  port.onMessage.addListener((message: unknown) => onEvent(message as KernelEvent));
  // Chrome stops a worker idle for 30 s; a message on the port counts as activity, so
  // while a page watches, the kernel stays up instead of rebooting every half minute.
  const keepAlive = setInterval(() => port.postMessage({ type: 'ping' }), KEEP_ALIVE_MS);
  port.onDisconnect.addListener(() => {
    clearInterval(keepAlive);
    onDisconnect?.();
  });
  return () => {
    clearInterval(keepAlive);
    port.disconnect();
  };
}

const KEEP_ALIVE_MS = 20_000;

/** One state-transfer exchange with the worker over a MessagePort (binary as it is). */
async function transfer<R>(
  message: object,
  transferList: Transferable[] = [],
): Promise<R> {
  const registration = await navigator.serviceWorker.ready;
  const worker = registration.active;
  if (!worker) throw new Error('the Cask service worker is not running');
  const channel = new MessageChannel();
  const answer = new Promise<R>((resolve, reject) => {
    channel.port1.onmessage = (event: MessageEvent) => {
      channel.port1.close();
      const data = event.data as { ok: boolean; error?: string } & R;
      if (data.ok) resolve(data);
      else reject(new Error(data.error ?? 'the transfer failed'));
    };
  });
  worker.postMessage(message, [channel.port2, ...transferList]);
  return answer;
}

/** The kernel's whole state as one file (a checkpoint of its database). */
export function exportKernelState(): Promise<{ bytes: Uint8Array; fileName: string }> {
  return transfer({ type: 'cask:export' });
}

/**
 * Replaces the kernel's whole state with a file from exportKernelState (this profile's
 * or another's). The file is checked first; a bad one is refused and changes nothing.
 */
export function importKernelState(
  bytes: Uint8Array,
): Promise<{ vats: number; crank: number }> {
  return transfer({ type: 'cask:import', bytes });
}

/**
 * The kernel as of `crank`, as a state file (docs/history.md): a fork to try things on,
 * imported here or in another profile. The kernel's own state is not touched.
 */
export function forkKernelState(
  crank: number,
): Promise<{ bytes: Uint8Array; fileName: string; crank: number; seq: number }> {
  return transfer({ type: 'cask:fork', crank });
}
