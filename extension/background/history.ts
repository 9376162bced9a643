/**
 * History in the extension (docs/history.md): reads and labels over the booted kernel's
 * IndexedDB storage, run between cranks once everything committed is durable. A restore
 * replaces the booted kernel, so it lives with the boot in ./index.ts; a fork is a state
 * file (./state-transfer.ts), bytes the panel saves.
 */
import {
  historyReader,
  labelCommit,
  SealedSegments,
  stateFileOf,
  unlabelCommit,
  type HistoryReader,
} from '../../kernel/index.ts';
import type { KernelHost } from './kernel-host.ts';

/**
 * The panel lists the log on every visit to Cranks or History: the sealed segments are
 * decoded once per booted kernel (an import or restore boots a new one).
 */
const sealedOf = new WeakMap<KernelHost, SealedSegments>();

/** Runs `read` over `host`'s history between cranks, once every commit is durable. */
export function readHistory<T>(
  host: KernelHost,
  read: (reader: HistoryReader) => Promise<T>,
): Promise<T> {
  return host.kernel.exportImage(async () => {
    await host.durability.settled();
    let sealed = sealedOf.get(host);
    if (!sealed) sealedOf.set(host, (sealed = new SealedSegments()));
    return read(historyReader(host.SQL, host.storage, host.kernel.state, sealed));
  });
}

const labelling = (host: KernelHost) => ({
  SQL: host.SQL,
  storage: host.storage,
  durability: host.durability,
  kernel: host.kernel,
});

export function label(
  host: KernelHost,
  crank: number,
  name: string,
): ReturnType<typeof labelCommit> {
  return labelCommit(labelling(host), crank, name);
}

export function unlabel(
  host: KernelHost,
  name: string,
): ReturnType<typeof unlabelCommit> {
  return unlabelCommit(labelling(host), name);
}

/** A state file holding the kernel as of `crank`; the kernel's own state is untouched. */
export async function forkStateFile(
  host: KernelHost,
  crank: number,
): Promise<{ bytes: Uint8Array; crank: number; seq: number }> {
  const { image, seq } = await readHistory(host, (r) => r.forkState(crank));
  return { bytes: await stateFileOf(image, seq), crank, seq };
}
