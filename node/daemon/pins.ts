/**
 * The CLI's pins: krefs the kernel handed to `cask send` stay reachable (pinned for the
 * caller "cli") until `cask release`, so a later send can call them or pass them.
 *
 * The kernel's API for it (`queueMessage(…, { caller })`, `releasePins`, `pinsOf`) is
 * being built in kernel/core; this adapter is the only place that knows whether the
 * kernel at hand has it, so the rest of the daemon and the CLI are written against it.
 */
import type { Kernel, KRef, Settlement } from '../../kernel/index.ts';

/** The caller the CLI's pins belong to. */
export const CLI_CALLER = 'cli';

interface PinningKernel {
  queueMessage(
    target: KRef,
    method: string,
    args: unknown[],
    options: { timeoutMs?: number; caller?: string },
  ): Promise<Settlement>;
  releasePins?: (caller: string, krefs?: KRef[]) => unknown;
  pinsOf?: (caller: string) => Iterable<KRef> | Promise<Iterable<KRef>>;
}

const pinning = (kernel: Kernel) => kernel as unknown as PinningKernel;

/** Whether this kernel keeps what it hands outside callers. */
export function kernelPins(kernel: Kernel): boolean {
  const k = pinning(kernel);
  return typeof k.releasePins === 'function' && typeof k.pinsOf === 'function';
}

/** Queues a message for the CLI; the krefs in its settlement are pinned for it. */
export function queueForCli(
  kernel: Kernel,
  target: KRef,
  method: string,
  args: unknown[],
  timeoutMs: number | undefined,
): Promise<Settlement> {
  return pinning(kernel).queueMessage(target, method, args, {
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    caller: CLI_CALLER,
  });
}

/** The krefs pinned for the CLI, sorted. */
export async function cliPins(kernel: Kernel): Promise<KRef[]> {
  const k = pinning(kernel);
  if (!kernelPins(kernel)) return [];
  return [
    ...(await (k.pinsOf as NonNullable<PinningKernel['pinsOf']>)(CLI_CALLER)),
  ].sort();
}

/** Releases some (or, without krefs, all) of the CLI's pins; returns those it let go. */
export async function releaseCliPins(
  kernel: Kernel,
  krefs: KRef[] | undefined,
): Promise<KRef[]> {
  const k = pinning(kernel);
  if (!kernelPins(kernel)) {
    throw new Error(
      'this kernel does not pin references yet; there is nothing to release',
    );
  }
  const before = new Set(await cliPins(kernel));
  await (k.releasePins as NonNullable<PinningKernel['releasePins']>)(CLI_CALLER, krefs);
  const after = new Set(await cliPins(kernel));
  return [...before].filter((kref) => !after.has(kref)).sort();
}
