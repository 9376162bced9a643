/**
 * Vat upgrade: a vat's code replaced in place, its durable state kept (docs/upgrade.md).
 *
 * An upgrade is one run-queue item and one crank, so it takes its turn: messages queued
 * before it reach the old version, messages after it the new one. In that crank the old
 * version gets `stopVat`; the vat's record takes the new bundle and parameters and a new
 * incarnation; the promises the old version decided are rejected with SwingSet's
 * upgrade disconnection (`{ name: 'vatUpgraded', upgradeMessage, incarnationNumber }`)
 * and its non-durable exports are abandoned; a new worker starts from the stored state
 * and gets `startVat`, where liveslots calls `buildRootObject(vatPowers, parameters,
 * baggage)` and insists that every durable kind is defined again. If anything of that
 * fails — the new code throws, a kind is not redefined, it breaks the protocol, the
 * watchdog stops it — the crank is rolled back whole, the new worker is stopped, and the
 * old worker, which liveslots' `stopVat` leaves as it was (a no-op since liveslots 0.10),
 * runs on with its heap. The result promise then says why.
 */
import { kser } from '../marshal/index.ts';
import type { CapData, Delivery } from '../protocol/index.ts';
import type { KernelState, RunQueueItem, VatId } from '../state/index.ts';
import type { Resolver } from './promises.ts';
import { CrankFault } from './translate.ts';
import { endIncarnation, type VatWarehouse } from './vat-warehouse.ts';

type UpgradeItem = Extract<RunQueueItem, { kind: 'upgradeVat' }>;

/** What an upgrade's result promise is fulfilled with. */
export interface UpgradeOutcome {
  vatId: VatId;
  /** The vat's code version now running (1 is the one it was created with). */
  version: number;
  /** SwingSet's name for the new incarnation's number. */
  incarnationNumber: number;
  bundleId: string;
}

/** The upgrade was rolled back; `message` says why. */
export class UpgradeFailed extends Error {
  override name = 'UpgradeFailed';

  constructor(
    readonly vatId: VatId,
    message: string,
    /** The old version's own fault, if it faulted on stopVat (it is recovered as usual). */
    readonly oldFault?: CrankFault,
  ) {
    super(message);
  }
}

/**
 * Queues an upgrade in the open crank. The item holds `result` (a reference), which the
 * upgrade's crank settles.
 */
export function queueUpgrade(state: KernelState, item: Omit<UpgradeItem, 'kind'>): void {
  if (item.result) state.incref(item.result);
  state.enqueue({ kind: 'upgradeVat', ...item });
}

export interface UpgradeContext {
  crank: number;
  state: KernelState;
  resolve: Resolver;
  warehouse: Pick<VatWarehouse, 'startVersion'>;
  /** Delivers to the vat's current worker and applies its reply; throws CrankFault. */
  deliver(vatId: VatId, delivery: Delivery): Promise<void>;
}

/**
 * Runs an upgrade inside its crank. Resolves to a line for the crank record once the new
 * version has started (the caller commits, then `finishUpgrade(vatId, true)`); throws
 * UpgradeFailed for the caller to roll back. An upgrade that cannot begin (a terminated
 * vat, an unknown bundle) settles its result at once, with nothing to roll back.
 */
export async function runUpgrade(
  ctx: UpgradeContext,
  item: UpgradeItem,
): Promise<{ upgraded: boolean; detail: string }> {
  const { state, resolve } = ctx;
  const { vatId } = item;
  const vat = state.getVat(vatId);
  const refuse = (why: string) => {
    settle(state, resolve, item, true, kser(Error(why)));
    return { upgraded: false, detail: why };
  };
  if (!vat) return refuse(`upgrade refused: no vat ${vatId}`);
  const who = `vat "${vat.name}" (${vatId})`;
  if (vat.state === 'terminated') {
    return refuse(`upgrade refused: ${who} is terminated`);
  }
  if (!state.hasBundle(item.bundleId)) {
    return refuse(`upgrade refused: the kernel has no bundle ${item.bundleId}`);
  }
  const from = state.vatVersions(vatId).at(-1)?.version ?? 1;
  if (vat.state === 'running') {
    try {
      await ctx.deliver(vatId, {
        kind: 'stopVat',
        disconnect: disconnection(`vat upgraded`, vat.incarnation + 1),
      });
    } catch (error) {
      if (!(error instanceof CrankFault)) throw error;
      throw new UpgradeFailed(
        vatId,
        `its version ${from} failed stopVat: ${error.message}`,
        error,
      );
    }
  }
  // The new version's records; all of it is rolled back if it does not start.
  vat.incarnation += 1;
  vat.bundleId = item.bundleId;
  vat.parameters = item.parameters;
  const wasSuspended = vat.state === 'suspended';
  if (wasSuspended) {
    vat.state = 'running';
    vat.reason = null;
  }
  state.putVat(vat);
  const version = state.addVatVersion(vat, ctx.crank);
  endIncarnation(
    state,
    resolve,
    vatId,
    disconnection(
      `vat "${vat.name}" upgraded from version ${from} to ${version.version}`,
      vat.incarnation,
    ),
  );
  // A suspended vat's held messages go to its new version, in their places.
  if (wasSuspended) state.releaseHeld(vatId, { dropStartVat: true });
  const fault = await ctx.warehouse.startVersion(state.requireVat(vatId));
  if (fault) {
    throw new UpgradeFailed(vatId, `its new version did not start: ${fault.message}`);
  }
  try {
    await ctx.deliver(vatId, { kind: 'startVat', parameters: item.parameters });
  } catch (error) {
    if (!(error instanceof CrankFault)) throw error;
    throw new UpgradeFailed(vatId, `its new version did not start: ${error.message}`);
  }
  const outcome: UpgradeOutcome = {
    vatId,
    version: version.version,
    incarnationNumber: vat.incarnation,
    bundleId: item.bundleId,
  };
  settle(state, resolve, item, false, kser(outcome));
  return {
    upgraded: true,
    detail: `upgraded from version ${from} to ${version.version}`,
  };
}

/** After a rollback, in a step of its own: the upgrade's result says why. */
export function rejectUpgrade(
  state: KernelState,
  resolve: Resolver,
  item: UpgradeItem,
  failure: UpgradeFailed,
): void {
  const vat = state.getVat(item.vatId);
  const who = vat ? `vat "${vat.name}" (${item.vatId})` : `vat ${item.vatId}`;
  settle(
    state,
    resolve,
    item,
    true,
    kser(
      Error(
        `upgrade of ${who} rolled back: ${failure.message}; its previous version runs on`,
      ),
    ),
  );
}

function settle(
  state: KernelState,
  resolve: Resolver,
  item: UpgradeItem,
  rejected: boolean,
  data: CapData,
): void {
  if (!item.result) return;
  resolve(item.result, rejected, data);
  state.decref(item.result);
}

/** SwingSet's upgrade disconnection: what promises of an ended incarnation reject with. */
function disconnection(upgradeMessage: string, incarnationNumber: number): CapData {
  return kser({ name: 'vatUpgraded', upgradeMessage, incarnationNumber });
}
