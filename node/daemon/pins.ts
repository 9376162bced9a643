/**
 * The CLI's pins: krefs the kernel hands to `cask send` stay reachable (pinned for the
 * caller "cli", durably, in the kernel's store) until `cask release`, so a later send,
 * in this daemon or in a process of its own, can call them or pass them.
 */
import {
  KernelError,
  type Kernel,
  type KRef,
  type Settlement,
} from '../../kernel/index.ts';
import { RequestError } from './protocol.ts';

/** The caller the CLI's pins belong to. */
export const CLI_CALLER = 'cli';

/** Queues a message for the CLI; the krefs in its settlement are pinned for it. */
export function queueForCli(
  kernel: Kernel,
  target: KRef,
  method: string,
  args: unknown[],
  timeoutMs: number | undefined,
): Promise<Settlement> {
  return kernel.queueMessage(target, method, args, {
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    caller: CLI_CALLER,
  });
}

/** The krefs pinned for the CLI, oldest first. */
export function cliPins(kernel: Kernel): KRef[] {
  return kernel.pinsOf(CLI_CALLER);
}

/**
 * Releases some (or, without krefs, all) of the CLI's pins; resolves to those it let go.
 * Naming a kref the CLI does not hold is refused and releases nothing.
 */
export async function releaseCliPins(
  kernel: Kernel,
  krefs: KRef[] | undefined,
): Promise<KRef[]> {
  try {
    return await kernel.releasePins(CLI_CALLER, krefs);
  } catch (error) {
    if (error instanceof KernelError) {
      throw new RequestError(`${error.message}; nothing was released`);
    }
    throw error;
  }
}
