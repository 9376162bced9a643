import {
  array,
  boolean,
  exactOptional,
  integer,
  object,
  pattern,
  size,
  string,
  union,
  unknown,
} from '@metamask/superstruct';
import {
  capdataToJson,
  type KernelState,
  type KRef,
  type Settlement,
} from '../../../kernel/index.ts';
import { queueForCli } from '../pins.ts';
import { RequestError } from '../protocol.ts';
import { defineMethod } from './method.ts';
import { refusing, vatNamed } from './vat-named.ts';

export const KREF = /^k[op]\d+$/u;

const Target = union([
  object({ vat: size(string(), 1, 256) }),
  object({ kref: pattern(string(), KREF) }),
]);

/** How long a send waits with no `timeoutMs`: deliveries have deadlines of their own. */
const SEND_DEADLINE_MS = 3_600_000;

/**
 * `method(...args)` to a vat's root (`{ vat }`) or any kernel object or promise
 * (`{ kref }`); args are JSON with `{ "$kref": "ko3" }` for references. The target and
 * the arguments are checked before anything runs. Answers with the result once its
 * crank is durable; the krefs in it are pinned for the CLI. A message that cannot be
 * answered now (its vat suspended, its result unresolved with the kernel idle) is
 * refused with what happened; it stays queued. In the daemon, with `timeoutMs`, an
 * unresolved result is waited for, since a later request may resolve it.
 */
export const send = defineMethod({
  name: 'send',
  params: object({
    target: Target,
    method: size(string(), 1, 256),
    args: array(unknown()),
    timeoutMs: exactOptional(size(integer(), 1, 86_400_000)),
  }),
  result: object({ target: string(), rejected: boolean(), value: unknown() }),
  deadlineMs: ({ timeoutMs }) => (timeoutMs ?? SEND_DEADLINE_MS) + 30_000,
  async handler(hooks, { target, method, args, timeoutMs }) {
    const { kernel } = await hooks.host();
    const kref: KRef =
      'vat' in target
        ? vatNamed(kernel.state, target.vat, hooks.dataDir).rootKref
        : target.kref;
    const what = 'vat' in target ? `${target.vat}.${method}` : `${kref}.${method}`;
    // Before anything runs: a bad target or argument changes nothing.
    await refusing(() => kernel.checkMessage(kref, method, args));
    await hooks.resume();
    let settled: Settlement | undefined;
    let failure: unknown;
    const answer = queueForCli(kernel, kref, method, args, timeoutMs).then(
      (s) => {
        settled = s;
      },
      (error: unknown) => {
        failure = error;
      },
    );
    // The answer, or the kernel idle without one: the message waits (its vat
    // suspended), or its vat has not resolved the result.
    await Promise.race([answer, kernel.whenIdle()]);
    await afterPromiseJobs();
    if (settled === undefined && failure === undefined) {
      const owner = ownerOf(kernel.state, kref);
      if (owner?.state === 'suspended') {
        throw new RequestError(
          `${what} waits: vat "${owner.name}" is suspended (${owner.reason ?? ''}); the message stays queued and is delivered when the vat is restarted (cask restart --data ${hooks.dataDir} ${owner.name})`,
        );
      }
      if (!(hooks.keepsHeap && timeoutMs !== undefined)) {
        throw new RequestError(
          `${what} has no answer: the kernel is idle and its result is unresolved (the vat has not resolved it)${
            hooks.keepsHeap
              ? '; with --timeout SECONDS, the daemon waits for it that long'
              : ''
          }`,
        );
      }
      await answer;
    }
    if (failure !== undefined) await refusing(() => Promise.reject(failure));
    if (!hooks.keepsHeap) await kernel.whenIdle();
    const { rejected, data } = settled as Settlement;
    return { target: kref, rejected, value: capdataToJson(data) };
  },
});

function ownerOf(state: KernelState, kref: KRef) {
  const object = state.getObject(kref);
  return object?.owner ? state.getVat(object.owner) : undefined;
}

/** After every promise job already due: a result the kernel released has reached us. */
const afterPromiseJobs = () => new Promise<void>((resolve) => setImmediate(resolve));
