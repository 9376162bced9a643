import {
  array,
  exactOptional,
  number,
  object,
  string,
  unknown,
} from '@metamask/superstruct';
import { defineMethod, SHORT_DEADLINE_MS } from './method.ts';

/**
 * The vats (with why any is suspended or terminated, and the messages waiting for it),
 * their vatstores, the last durable crank, the run queue, the log, the checkpoint, and
 * anything recovery found or cut. Reads only: no crank runs, no byte changes (in the
 * daemon it reads between cranks, once every committed crank is durable).
 */
export const inspect = defineMethod({
  name: 'inspect',
  params: object({}),
  result: object({
    dataDir: string(),
    lastDurableCrank: number(),
    runQueueLength: number(),
    log: object({ records: number(), bytes: number(), lastSeq: number() }),
    checkpoint: object({ seq: number(), bytes: number() }),
    vats: array(unknown()),
    tornTail: exactOptional(unknown()),
    cutTails: array(unknown()),
    skippedCheckpoints: array(unknown()),
    leftovers: array(unknown()),
    daemon: exactOptional(object({ pid: number() })),
  }),
  deadlineMs: () => SHORT_DEADLINE_MS * 6,
  readsOnly: true,
  async handler(hooks) {
    return hooks.inspect(async (source) => {
      const { state } = source;
      const vats = state.listVats().map((v) => ({
        name: v.name,
        vatId: v.vatId,
        state: v.state,
        incarnation: v.incarnation,
        version: state.vatVersions(v.vatId).at(-1)?.version ?? 1,
        vatstore: state.vatstoreStats(v.vatId),
        ...(v.reason === null ? {} : { reason: v.reason }),
        ...(v.state === 'suspended' ? { held: state.heldCount(v.vatId) } : {}),
      }));
      const torn = source.tornTail;
      return {
        dataDir: hooks.dataDir,
        lastDurableCrank: state.peekCounter('crank') - 1,
        runQueueLength: state.runQueueLength(),
        log: source.log,
        checkpoint: source.checkpoint,
        vats,
        ...(torn
          ? {
              tornTail: {
                segment: torn.segment,
                offset: torn.offset,
                bytes: torn.bytes,
                why: torn.why,
              },
            }
          : {}),
        cutTails: source.cutTails,
        skippedCheckpoints: source.skippedCheckpoints,
        leftovers: source.leftovers,
        ...(hooks.daemon ? { daemon: { pid: hooks.daemon.pid } } : {}),
      };
    });
  },
});
