/**
 * History as a host offers it (docs/history.md): the listing with vats by name, a vat's
 * vatstore at a commit, a key's changes, the state to fork, and labels — over any host's
 * DurableStorage, beside the kernel's current state. The Node host and the extension
 * both serve their requests from here; kernel/durability reads the log underneath.
 *
 * Reads run with nothing changed: the caller runs them between cranks once everything
 * committed is durable (`Kernel.exportImage` and `Durability.settled`), or over a store
 * opened read-only.
 */
import type { SqlJsStatic } from 'sql.js';
import type { Kernel } from '../core/index.ts';
import {
  History,
  HistoryError,
  type SealedSegments,
  forkImage,
  type DurableStorage,
  type HistoryCommit,
  type KeyChange,
} from '../durability/index.ts';
import { KernelState, type VatstorePage } from '../state/index.ts';
import {
  loggedCranks,
  loggedDelta,
  type LoggedCrank,
  type LoggedDelta,
} from './cranks.ts';

export type { LoggedCrank, LoggedDelta, ResultState } from './cranks.ts';

/** A commit as `history` lists it: vats by name as well as id. */
export interface ListedCommit extends Omit<HistoryCommit, 'vats'> {
  vats: Array<{ vatId: string; name?: string }>;
}

/** What history takes: all checkpoints and log, beside the live store's database. */
export interface HistorySpace {
  checkpointBytes: number;
  logBytes: number;
  liveBytes: number;
}

export interface HistoryListing {
  commits: ListedCommit[];
  space: HistorySpace;
}

/** A storage that can say what it holds (both hosts' can). */
export interface SizedStorage extends DurableStorage {
  sizes(): Promise<{
    logBytes: number;
    checkpointBytes: number;
    newestCheckpointBytes: number;
  }>;
}

export interface VatstoreAtPage extends VatstorePage {
  crank: number;
  vatId: string;
}

/** Reads history; nothing here changes anything. */
export interface HistoryReader {
  history(): Promise<HistoryListing>;
  /** What a vat's vatstore held after the commit ending at `crank` (paged). */
  vatstoreAt(
    crank: number,
    vat: string,
    options: { prefix?: string; after?: string; limit: number },
  ): Promise<VatstoreAtPage>;
  /** The retained commits that changed `key` of `vat`'s vatstore. */
  keyHistory(vat: string, key: string): Promise<KeyChange[]>;
  /**
   * The kernel as of `crank`, as a database image without labels, and the seq it stands
   * at: what a fork writes (a data directory, a state file).
   */
  forkState(crank: number): Promise<{ image: Uint8Array; crank: number; seq: number }>;
  /** Every crank the retained log notes, newest first. */
  cranks(): Promise<LoggedCrank[]>;
  /** What one logged crank changed in its vat's vatstore (undefined if not logged). */
  crankDelta(crank: number): Promise<LoggedDelta | undefined>;
}

/** A vat named by name or id, in `state`. */
function vatIdIn(state: KernelState, vat: string): string | undefined {
  return state.getVatByName(vat)?.vatId ?? (state.getVat(vat) ? vat : undefined);
}

/**
 * A reader over `storage`, with `state` the kernel's current state. A host that reads
 * history again and again (an inspector) passes the same `sealed` each time.
 */
export function historyReader(
  SQL: SqlJsStatic,
  storage: SizedStorage,
  state: KernelState,
  sealed?: SealedSegments,
): HistoryReader {
  const history = () => new History(SQL, storage, sealed);
  return {
    async history() {
      const labels = state.historyLabels();
      const commits = (await history().commits(labels)).map((c) => ({
        ...c,
        vats: c.vats.map((vatId) => {
          const name = state.getVat(vatId)?.name;
          return name === undefined ? { vatId } : { vatId, name };
        }),
      }));
      const sizes = await storage.sizes();
      const page = (pragma: string) =>
        Number(state.store.one(`PRAGMA ${pragma}`)?.[0] ?? 0);
      return {
        commits,
        space: {
          checkpointBytes: sizes.checkpointBytes,
          logBytes: sizes.logBytes,
          liveBytes: page('page_count') * page('page_size'),
        },
      };
    },
    async vatstoreAt(crank, vat, options) {
      const { store } = await history().stateAt(crank);
      try {
        const then = new KernelState(store);
        const vatId = vatIdIn(then, vat);
        if (vatId === undefined) {
          throw new HistoryError(`no vat ${JSON.stringify(vat)} at crank ${crank}`);
        }
        return { crank, vatId, ...then.readVatstore(vatId, options) };
      } finally {
        store.close();
      }
    },
    async keyHistory(vat, key) {
      return history().keyHistory(vatIdIn(state, vat) ?? vat, key);
    },
    cranks: () => loggedCranks(history(), state),
    crankDelta: (crank) => loggedDelta(history(), crank),
    async forkState(crank) {
      const { store, seq } = await history().stateAt(crank);
      try {
        return { image: forkImage(store), crank, seq };
      } finally {
        store.close();
      }
    },
  };
}

/** What labels need of a running kernel and its log. */
export interface LabellingParts {
  SQL: SqlJsStatic;
  storage: DurableStorage;
  durability: { settled(): Promise<void> };
  kernel: Pick<Kernel, 'putHistoryLabel' | 'state'>;
}

export const LABEL_PATTERN = /^[A-Za-z0-9_.:@-]{1,64}$/u;

function checkLabelName(name: string): void {
  if (!LABEL_PATTERN.test(name)) {
    throw new HistoryError(
      `${JSON.stringify(name)} cannot be a label (1 to 64 of A-Z a-z 0-9 _ . : @ -)`,
    );
  }
}

/**
 * Names the commit ending at `crank`: it is then kept whatever the retention policy
 * says. Refused, changing nothing, for a taken name or a commit not retained.
 */
export async function labelCommit(
  parts: LabellingParts,
  crank: number,
  name: string,
): Promise<{ crank: number; seq: number; name: string }> {
  checkLabelName(name);
  const { kernel } = parts;
  let seq = 0;
  await kernel.putHistoryLabel(name, async () => {
    await parts.durability.settled();
    const taken = kernel.state.historyLabels().find((l) => l.name === name);
    if (taken) {
      throw new HistoryError(
        `the label ${name} already marks crank ${taken.crank}; choose another name`,
      );
    }
    ({ seq } = await new History(parts.SQL, parts.storage).locate(crank));
    return { crank, seq };
  });
  return { crank, seq, name };
}

/**
 * Removes a label: its commit is kept only as long as the policy keeps it (the next
 * checkpoint may let it go). Refused, changing nothing, for a name no label has.
 */
export async function unlabelCommit(
  parts: LabellingParts,
  name: string,
): Promise<{ crank: number; seq: number; name: string }> {
  checkLabelName(name);
  const { kernel } = parts;
  let removed: { crank: number; seq: number } | undefined;
  await kernel.putHistoryLabel(name, async () => {
    const labels = kernel.state.historyLabels();
    removed = labels.find((l) => l.name === name);
    if (!removed) {
      const known = labels.map((l) => l.name);
      throw new HistoryError(
        `no label is named ${name}${known.length > 0 ? ` (labels: ${known.join(', ')})` : ' (there are no labels)'}`,
      );
    }
    return null;
  });
  const { crank, seq } = removed as { crank: number; seq: number };
  return { crank, seq, name };
}
