import { crankDelta } from './crank-delta.ts';
import { cranks } from './cranks.ts';
import { history } from './history.ts';
import { label, unlabel } from './label.ts';
import { launchCluster } from './launch-cluster.ts';
import { listBundles } from './list-bundles.ts';
import { listVats } from './list-vats.ts';
import { objects } from './objects.ts';
import { listPins, releasePins } from './pins.ts';
import { promiseStatus } from './promise-status.ts';
import { promises } from './promises.ts';
import { query } from './query.ts';
import { readVatstore } from './read-vatstore.ts';
import { recentCranks } from './recent-cranks.ts';
import { restartKernel } from './restart-kernel.ts';
import { restartVat } from './restart-vat.ts';
import { restore } from './restore.ts';
import { runQueue } from './run-queue-items.ts';
import { timers } from './timers.ts';
import { setPaused } from './run-queue.ts';
import { send } from './send.ts';
import { status } from './status.ts';
import { terminateVat } from './terminate-vat.ts';
import { upgradeVat } from './upgrade-vat.ts';
import { vatVersions } from './vat-versions.ts';
import { keyHistory, vatstoreAt } from './vatstore-at.ts';
import { whenIdle } from './when-idle.ts';

/** Every request the surface answers. */
export const METHODS = [
  status,
  listVats,
  launchCluster,
  send,
  listPins,
  releasePins,
  promiseStatus,
  readVatstore,
  terminateVat,
  restartVat,
  upgradeVat,
  vatVersions,
  listBundles,
  restartKernel,
  setPaused,
  whenIdle,
  recentCranks,
  crankDelta,
  cranks,
  query,
  // History (docs/history.md); a fork is a state file (extension/background/state-transfer.ts).
  history,
  vatstoreAt,
  keyHistory,
  label,
  unlabel,
  restore,
  // The Objects view: c-lists, promises, the run queue, the timer service's wake-ups.
  objects,
  promises,
  runQueue,
  timers,
] as const;
