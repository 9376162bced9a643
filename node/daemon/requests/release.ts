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
 * and releases nothing.
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
    const krefs = 'krefs' in params ? [...new Set(params.krefs)] : undefined;
    if (krefs) {
      const pinned = new Set(await cliPins(kernel));
      const strangers = krefs.filter((kref) => !pinned.has(kref));
      if (strangers.length > 0) {
        throw new RequestError(
          `${strangers.join(', ')} ${strangers.length === 1 ? 'is' : 'are'} not pinned for cask (pinned: ${[...pinned].join(', ') || 'none'}); nothing was released`,
        );
      }
    }
    // The drops a release causes are delivered to the vats that exported them.
    await hooks.resume();
    const released = await releaseCliPins(kernel, krefs);
    if (!hooks.keepsHeap) await kernel.whenIdle();
    return { released, pinned: await cliPins(kernel), all: krefs === undefined };
  },
});
