import {
  array,
  boolean,
  literal,
  object,
  pattern,
  size,
  string,
  union,
} from '@metamask/superstruct';
import { releaseCliPins, cliPins } from '../pins.ts';
import { RequestError } from '../protocol.ts';
import { defineMethod, SHORT_DEADLINE_MS } from './method.ts';
import { KREF } from './send.ts';

/**
 * Lets go of krefs the kernel handed to `cask send` (pinned for the CLI), or all of
 * them: the kernel may then collect them. Naming a kref that is not pinned is refused,
 * and releases nothing (before any vat starts).
 */
export const release = defineMethod({
  name: 'release',
  params: union([
    object({ krefs: size(array(pattern(string(), KREF)), 1, 10_000) }),
    object({ all: literal(true) }),
  ]),
  result: object({ released: array(string()), pinned: array(string()), all: boolean() }),
  deadlineMs: () => SHORT_DEADLINE_MS * 6,
  async handler(hooks, params) {
    const { kernel } = await hooks.host();
    const krefs = 'krefs' in params ? params.krefs : undefined;
    const pinned = new Set(cliPins(kernel));
    const strangers = (krefs ?? []).filter((kref) => !pinned.has(kref));
    if (strangers.length > 0) {
      throw new RequestError(
        `cask holds no pin on ${strangers.join(', ')} (it holds ${[...pinned].join(', ') || 'none'}); nothing was released`,
      );
    }
    // The drops a release causes are delivered to the vats that exported them.
    await hooks.resume();
    const released = await releaseCliPins(kernel, krefs);
    if (!hooks.keepsHeap) await kernel.whenIdle();
    return { released, pinned: cliPins(kernel), all: krefs === undefined };
  },
});
