/**
 * Overview: the kernel's status, live from the event stream (the first `status`, then
 * `status` events), and pause/resume of the run queue.
 *
 * data-testids: overview-vats, overview-crank, overview-durable-crank,
 * overview-run-queue, overview-store-bytes, overview-last-checkpoint, overview-paused,
 * overview-pause-toggle, overview-error (status or pause refused).
 */
import { askKernel } from '../../surface-client/index.ts';
import {
  useAction,
  type FeedState,
  type KernelFeed,
  type KernelStatus,
} from '../kernel.ts';
import { ErrorLine, View, formatBytes, formatTime } from '../ui.tsx';

export function Overview({ feed, state }: { feed: KernelFeed; state: FeedState }) {
  const pause = useAction<unknown>();
  const { status } = state;
  const toggle = (paused: boolean) =>
    pause.run(async () => {
      feed.patchStatus(await askKernel<Partial<KernelStatus>>('setPaused', { paused }));
    });

  return (
    <View name="overview" title="Overview" busy={pause.busy || status === null}>
      <ErrorLine error={state.statusError ?? pause.error} testid="overview-error" />
      {status === null ? (
        <p class="muted">Waiting for the kernel…</p>
      ) : (
        <>
          <dl class="stats">
            <Stat label="Vats (running)" testid="overview-vats" value={status.vats} />
            <Stat label="Crank" testid="overview-crank" value={status.crank} />
            <Stat
              label="Durable crank"
              testid="overview-durable-crank"
              value={status.durableCrank}
            />
            <Stat
              label="Run queue"
              testid="overview-run-queue"
              value={status.runQueueLength}
            />
            <Stat
              label="Store size"
              testid="overview-store-bytes"
              value={formatBytes(status.storeBytes)}
            />
            <Stat
              label="Last checkpoint"
              testid="overview-last-checkpoint"
              value={checkpointText(status)}
            />
            <Stat
              label="Log since checkpoint"
              testid="overview-log-bytes"
              value={formatBytes(status.durability.logBytesSinceCheckpoint)}
            />
            <Stat
              label="Booted"
              testid="overview-boot"
              value={`${formatTime(status.boot.at)}${status.boot.firstRun ? ' (first run)' : ''}`}
            />
            <Stat
              label="Run queue state"
              testid="overview-paused"
              value={status.paused ? 'paused' : 'running'}
            />
          </dl>
          <button
            type="button"
            data-testid="overview-pause-toggle"
            disabled={pause.busy}
            onClick={() => void toggle(!status.paused)}
          >
            {status.paused ? 'Resume run queue' : 'Pause run queue'}
          </button>
        </>
      )}
    </View>
  );
}

function Stat({
  label,
  value,
  testid,
}: {
  label: string;
  value: string | number;
  testid: string;
}) {
  return (
    <div class="stat">
      <dt>{label}</dt>
      <dd data-testid={testid}>{value}</dd>
    </div>
  );
}

function checkpointText(status: KernelStatus): string {
  const last = status.lastCheckpoint;
  if (last) return `seq ${last.seq} at ${formatTime(last.at)}`;
  const { checkpoints, checkpointSeq } = status.durability;
  return checkpoints > 0 ? `seq ${checkpointSeq}` : 'none yet';
}
