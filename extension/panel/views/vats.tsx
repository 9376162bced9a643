/**
 * Vats: every vat the kernel has had — running, suspended after a fault (with the reason
 * and the messages waiting for it) or terminated — with the code version it runs and its
 * version history (under the row), restart, upgrade (a form under the row, confirmed
 * before it is sent: ./vat-upgrade.tsx) and terminate (confirmed in the row, its
 * vatstore kept unless "delete its state" is ticked), and a form that launches a
 * cluster from pasted or uploaded JSON (./launch.tsx). The list reloads after each action
 * and after crank events (at most twice a second).
 *
 * data-testids: vats-table, vat-row (data-vat-id, data-state), vat-terminate,
 * vat-terminate-reason, vat-terminate-delete, vat-terminate-confirm,
 * vat-terminate-cancel, vat-restart, vat-version (the version cell), vat-history-toggle,
 * vat-upgrade-open (and the upgrade form's own, in ./vat-upgrade.tsx),
 * vats-refresh, vats-error (list or action refused); the Launch form's in ./launch.tsx.
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
import { ErrorLine, View, formatBytes } from '../ui.tsx';
import { Launch } from './launch.tsx';
import { UpgradeForm, VersionHistory } from './vat-upgrade.tsx';

/** The table's columns: the rows under a vat (history, upgrade) span them all. */
const COLUMNS = 9;

export function Vats({ feed }: { feed: KernelFeed }) {
  const { vats, error, busy, refresh } = useVats();
  const action = useAction<unknown>();
  const [confirming, setConfirming] = useState<string | null>(null);
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

  const terminate = (vatId: string) =>
    action.run(async () => {
      try {
        await askKernel('terminateVat', {
          vatId,
          deleteState,
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
        await refresh();
      }
    });

  return (
    <View name="vats" title="Vats" busy={busy || action.busy || upgradeBusy}>
      <div class="toolbar">
        <button type="button" data-testid="vats-refresh" onClick={() => void refresh()}>
          Refresh
        </button>
      </div>
      <ErrorLine error={error ?? action.error} testid="vats-error" />
      <table data-testid="vats-table">
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
                confirming={confirming === vat.vatId}
                upgrading={upgrading === vat.vatId}
                historyOpen={histories.has(vat.vatId)}
                reason={reason}
                onReason={setReason}
                deleteState={deleteState}
                onDeleteState={setDeleteState}
                onAskTerminate={() => {
                  setReason('');
                  setDeleteState(false);
                  setUpgrading(null);
                  setConfirming(vat.vatId);
                }}
                onCancel={() => setConfirming(null)}
                onTerminate={() => void terminate(vat.vatId)}
                onRestart={() => void restart(vat.vatId)}
                onUpgrade={() => {
                  setConfirming(null);
                  setUpgrading(vat.vatId);
                }}
                onToggleHistory={() => toggleHistory(vat.vatId)}
              />
              {histories.has(vat.vatId) ? (
                <tr class="vat-detail" data-testid="vat-history" data-vat-id={vat.vatId}>
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
      {vats?.length === 0 ? <p class="muted">No vats.</p> : null}

      <Launch onLaunched={() => void refresh()} />
    </View>
  );
}

function VatRow(props: {
  vat: VatInfo;
  disabled: boolean;
  confirming: boolean;
  upgrading: boolean;
  historyOpen: boolean;
  reason: string;
  onReason: (reason: string) => void;
  deleteState: boolean;
  onDeleteState: (on: boolean) => void;
  onAskTerminate: () => void;
  onCancel: () => void;
  onTerminate: () => void;
  onRestart: () => void;
  onUpgrade: () => void;
  onToggleHistory: () => void;
}) {
  const { vat, disabled, confirming } = props;
  const running = vat.state === 'running';
  const live = vat.state !== 'terminated';
  return (
    <tr data-testid="vat-row" data-vat-id={vat.vatId} data-state={vat.state}>
      <td>{vat.name}</td>
      <td class="mono">{vat.vatId}</td>
      <td class="num">{vat.incarnation}</td>
      <td class="num">{vat.vatstore.keys}</td>
      <td class="num" title={`${vat.vatstore.bytes} bytes`}>
        {formatBytes(vat.vatstore.bytes)}
      </td>
      <td class={running ? 'ok' : 'bad'}>
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
      <td class="actions">
        {!live ? null : confirming ? (
          <>
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
            </button>
            <button
              type="button"
              data-testid="vat-terminate-cancel"
              onClick={props.onCancel}
            >
              Cancel
            </button>
          </>
        ) : (
          <>
            <button
              type="button"
              data-testid="vat-restart"
              disabled={disabled}
              onClick={props.onRestart}
            >
              Restart
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
              onClick={props.onAskTerminate}
            >
              Terminate…
            </button>
          </>
        )}
      </td>
    </tr>
  );
}
