/**
 * Vats: every vat the kernel has had, in the states of the fault model — running;
 * suspended after a fault (with the reason and the messages held for it: restart runs
 * them, terminate rejects them); terminated (with the reason) — with the code version it
 * runs and its version history (under the row), and the actions, each confirmed in the
 * row before anything changes: restart, upgrade (a form under the row: ./vat-upgrade.tsx),
 * terminate (its vatstore kept unless "delete its state" is ticked) and, for a
 * terminated vat that kept its vatstore, delete its state. Each vat links to its c-list
 * (the Objects view); the History view restores the whole kernel to an earlier crank.
 * The table scrolls in its own box, its actions column kept in view (a docked panel).
 * A form launches a cluster from pasted or uploaded JSON (./launch.tsx). The list reloads
 * after each action and after crank events (at most twice a second). `#vats?vat=VATID`
 * (../links.ts) marks that vat's row.
 *
 * data-testids: vats-table, vats-box (its scrolling box), vat-row (data-vat-id,
 * data-state), vat-state-help, vat-objects-link, vats-history-link, vat-terminate,
 * vat-terminate-reason, vat-terminate-delete, vat-terminate-confirm,
 * vat-terminate-cancel, vat-restart, vat-restart-confirm, vat-restart-cancel,
 * vat-delete-state, vat-delete-state-confirm, vat-delete-state-cancel, vat-version (the
 * version cell), vat-history-toggle, vat-upgrade-open (and the upgrade form's own, in
 * ./vat-upgrade.tsx), vats-refresh, vats-error (list or action refused); the Launch
 * form's in ./launch.tsx.
 */
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { askKernel } from '../../surface-client/index.ts';
import {
  useAction,
  useCoalesced,
  useVats,
  type KernelFeed,
  type VatInfo,
} from '../kernel.ts';
import { hashParams, objectsHref } from '../links.ts';
import { ErrorLine, View, formatBytes } from '../ui.tsx';
import { Launch } from './launch.tsx';
import { UpgradeForm, VersionHistory } from './vat-upgrade.tsx';

/** The table's columns: the rows under a vat (history, upgrade) span them all. */
const COLUMNS = 9;

export function Vats({ feed }: { feed: KernelFeed }) {
  const { vats, error, busy, refresh } = useVats();
  const action = useAction<unknown>();
  // The vat whose action waits for its confirm, and which action.
  const [confirming, setConfirming] = useState<{ vatId: string; action: Pending } | null>(
    null,
  );
  const [marked] = useState(() => hashParams('vats')?.get('vat') ?? null);
  const [reason, setReason] = useState('');
  const [deleteState, setDeleteState] = useState(false);
  const [upgrading, setUpgrading] = useState<string | null>(null);
  const [upgradeBusy, setUpgradeBusy] = useState(false);
  const [histories, setHistories] = useState<ReadonlySet<string>>(new Set());
  const toggleHistory = (vatId: string) =>
    setHistories((open) => {
      const next = new Set(open);
      if (!next.delete(vatId)) next.add(vatId);
      return next;
    });

  const refreshSoon = useCoalesced(() => void refresh(), 500);
  useEffect(() => feed.onCrank(refreshSoon), [feed, refreshSoon]);

  // The vat a link marked, brought into view once it is listed.
  const markedListed = vats?.some((v) => v.vatId === marked) ?? false;
  useEffect(() => {
    if (!markedListed || marked === null) return;
    document
      .querySelector(`[data-testid="vat-row"][data-vat-id="${marked}"]`)
      ?.scrollIntoView({ block: 'nearest' });
  }, [markedListed, marked]);

  const terminate = (vatId: string, alreadyTerminated = false) =>
    action.run(async () => {
      try {
        await askKernel('terminateVat', {
          vatId,
          deleteState: alreadyTerminated || deleteState,
          ...(reason.trim() ? { reason: reason.trim() } : {}),
        });
      } finally {
        setConfirming(null);
        setReason('');
        setDeleteState(false);
        await refresh();
      }
    });
  const restart = (vatId: string) =>
    action.run(async () => {
      try {
        await askKernel('restartVat', { vatId });
      } finally {
        setConfirming(null);
        await refresh();
      }
    });

  return (
    <View name="vats" title="Vats" busy={busy || action.busy || upgradeBusy}>
      <div class="toolbar">
        <button type="button" data-testid="vats-refresh" onClick={() => void refresh()}>
          Refresh
        </button>
        <span class="muted">
          To bring the whole kernel back to an earlier crank:{' '}
          <a href="#history" data-testid="vats-history-link">
            History
          </a>
        </span>
      </div>
      <ErrorLine error={error ?? action.error} testid="vats-error" />
      <div class="vats-box" data-testid="vats-box">
        <table class="vats" data-testid="vats-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Id</th>
              <th class="num">Incarnation</th>
              <th class="num">Keys</th>
              <th class="num">Bytes</th>
              <th>State</th>
              <th>Reason</th>
              <th class="num">Version</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(vats ?? []).map((vat) => (
              <Fragment key={vat.vatId}>
                <VatRow
                  vat={vat}
                  disabled={action.busy}
                  marked={marked === vat.vatId}
                  confirming={confirming?.vatId === vat.vatId ? confirming.action : null}
                  upgrading={upgrading === vat.vatId}
                  historyOpen={histories.has(vat.vatId)}
                  reason={reason}
                  onReason={setReason}
                  deleteState={deleteState}
                  onDeleteState={setDeleteState}
                  onAsk={(pending) => {
                    setReason('');
                    setDeleteState(false);
                    setUpgrading(null);
                    setConfirming({ vatId: vat.vatId, action: pending });
                  }}
                  onCancel={() => setConfirming(null)}
                  onTerminate={() => void terminate(vat.vatId)}
                  onDeleteKept={() => void terminate(vat.vatId, true)}
                  onRestart={() => void restart(vat.vatId)}
                  onUpgrade={() => {
                    setConfirming(null);
                    setUpgrading(vat.vatId);
                  }}
                  onToggleHistory={() => toggleHistory(vat.vatId)}
                />
                {histories.has(vat.vatId) ? (
                  <tr
                    class="vat-detail"
                    data-testid="vat-history"
                    data-vat-id={vat.vatId}
                  >
                    <td colSpan={COLUMNS}>
                      <VersionHistory vat={vat} />
                    </td>
                  </tr>
                ) : null}
                {upgrading === vat.vatId && vat.state !== 'terminated' ? (
                  <tr class="vat-detail" data-vat-id={vat.vatId}>
                    <td colSpan={COLUMNS}>
                      <UpgradeForm
                        vat={vat}
                        onDone={() => void refresh()}
                        onClose={() => setUpgrading(null)}
                        onBusy={setUpgradeBusy}
                      />
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>
      {vats?.length === 0 ? <p class="muted">No vats.</p> : null}

      <Launch onLaunched={() => void refresh()} />
    </View>
  );
}

/** An action that waits for its confirm in the vat's row. */
type Pending = 'terminate' | 'restart' | 'deleteState';

/** What each state of the fault model means, and what can be done. */
const STATE_HELP: Record<VatInfo['state'], string> = {
  running: 'running: it gets its messages as they come',
  suspended:
    'suspended after a fault: its state and queued messages are kept; restart it to run them, or terminate it',
  terminated: 'terminated: it runs no more; messages to its objects are rejected',
};

function VatRow(props: {
  vat: VatInfo;
  disabled: boolean;
  marked: boolean;
  confirming: Pending | null;
  upgrading: boolean;
  historyOpen: boolean;
  reason: string;
  onReason: (reason: string) => void;
  deleteState: boolean;
  onDeleteState: (on: boolean) => void;
  onAsk: (action: Pending) => void;
  onCancel: () => void;
  onTerminate: () => void;
  onDeleteKept: () => void;
  onRestart: () => void;
  onUpgrade: () => void;
  onToggleHistory: () => void;
}) {
  const { vat, disabled, confirming } = props;
  const running = vat.state === 'running';
  const live = vat.state !== 'terminated';
  const kept = vat.vatstore.keys > 0;
  return (
    <tr
      data-testid="vat-row"
      data-vat-id={vat.vatId}
      data-state={vat.state}
      class={props.marked ? 'selected' : undefined}
    >
      <td>{vat.name}</td>
      <td class="mono">{vat.vatId}</td>
      <td class="num">{vat.incarnation}</td>
      <td class="num">{vat.vatstore.keys}</td>
      <td class="num" title={`${vat.vatstore.bytes} bytes`}>
        {formatBytes(vat.vatstore.bytes)}
      </td>
      <td
        class={running ? 'ok' : vat.state === 'suspended' ? 'warning' : 'bad'}
        title={STATE_HELP[vat.state]}
        data-testid="vat-state-help"
      >
        {vat.state}
        {vat.held > 0 ? ` (${vat.held} waiting)` : ''}
      </td>
      <td class="wrap">{vat.reason ?? ''}</td>
      <td class="num actions">
        <span data-testid="vat-version">{vat.version}</span>{' '}
        <button
          type="button"
          class="link"
          data-testid="vat-history-toggle"
          aria-expanded={props.historyOpen ? 'true' : 'false'}
          onClick={props.onToggleHistory}
        >
          {props.historyOpen ? 'hide history' : 'history'}
        </button>
      </td>
      <td class={confirming ? 'actions vat-actions confirming' : 'actions vat-actions'}>
        {/* A docked panel scrolls the State column away: the state again, by the actions. */}
        <span
          class={`vat-state-narrow ${running ? 'ok' : vat.state === 'suspended' ? 'warning' : 'bad'}`}
        >
          {vat.state}
        </span>
        {confirming === 'terminate' ? (
          <div role="alertdialog" aria-label={`Terminate ${vat.name}?`}>
            <p class="vat-confirm-text">
              Terminate {vat.name}? The promises it decides and the messages waiting for
              it are rejected.
            </p>
            <input
              type="text"
              placeholder="reason (optional)"
              data-testid="vat-terminate-reason"
              value={props.reason}
              onInput={(e) => props.onReason(e.currentTarget.value)}
            />
            <label>
              <input
                type="checkbox"
                data-testid="vat-terminate-delete"
                checked={props.deleteState}
                onChange={(e) => props.onDeleteState(e.currentTarget.checked)}
              />{' '}
              delete its state
            </label>
            <button
              type="button"
              class="danger"
              data-testid="vat-terminate-confirm"
              disabled={disabled}
              onClick={props.onTerminate}
            >
              Terminate {vat.name}
              {props.deleteState ? ' and delete its state' : ''}
            </button>
            <button
              type="button"
              data-testid="vat-terminate-cancel"
              onClick={props.onCancel}
            >
              Cancel
            </button>
          </div>
        ) : confirming === 'restart' ? (
          <div role="alertdialog" aria-label={`Restart ${vat.name}?`}>
            <p class="vat-confirm-text">
              Restart {vat.name}? A new incarnation starts from its last committed state
              {vat.held > 0 ? `, then runs the ${vat.held} messages waiting for it` : ''}.
            </p>
            <button
              type="button"
              data-testid="vat-restart-confirm"
              disabled={disabled}
              onClick={props.onRestart}
            >
              Restart {vat.name}
            </button>
            <button
              type="button"
              data-testid="vat-restart-cancel"
              onClick={props.onCancel}
            >
              Cancel
            </button>
          </div>
        ) : confirming === 'deleteState' ? (
          <div role="alertdialog" aria-label={`Delete ${vat.name}'s state?`}>
            <p class="vat-confirm-text">
              Delete the vatstore {vat.name} kept ({vat.vatstore.keys} keys)? It cannot be
              undone (but for a restore in History).
            </p>
            <button
              type="button"
              class="danger"
              data-testid="vat-delete-state-confirm"
              disabled={disabled}
              onClick={props.onDeleteKept}
            >
              Delete {vat.name}'s state
            </button>
            <button
              type="button"
              data-testid="vat-delete-state-cancel"
              onClick={props.onCancel}
            >
              Cancel
            </button>
          </div>
        ) : live ? (
          <>
            <button
              type="button"
              data-testid="vat-restart"
              disabled={disabled}
              onClick={() => props.onAsk('restart')}
            >
              Restart…
            </button>
            <button
              type="button"
              data-testid="vat-upgrade-open"
              disabled={disabled || props.upgrading}
              onClick={props.onUpgrade}
            >
              Upgrade…
            </button>
            <button
              type="button"
              class="danger"
              data-testid="vat-terminate"
              disabled={disabled}
              onClick={() => props.onAsk('terminate')}
            >
              Terminate…
            </button>
          </>
        ) : kept ? (
          <button
            type="button"
            class="danger"
            data-testid="vat-delete-state"
            disabled={disabled}
            onClick={() => props.onAsk('deleteState')}
          >
            Delete state…
          </button>
        ) : null}
        {confirming ? null : (
          <a
            class="vat-objects"
            href={objectsHref(vat.vatId)}
            data-testid="vat-objects-link"
            title={`what ${vat.name} exports and imports`}
          >
            objects
          </a>
        )}
      </td>
    </tr>
  );
}
