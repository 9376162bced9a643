/**
 * History (docs/history.md): the retained commits on a timeline and in a table, newest
 * first, 200 a page; for a chosen commit its labels, what a vat's vatstore held after
 * it, and — each behind a confirm step — restore the whole kernel to it or fork it into a
 * state file. Below, the commits that changed one vatstore key.
 *
 * data-testids: history-space, history-timeline, history-tick (data-crank),
 * history-table, history-row (data-crank, data-seq), history-older, history-reload,
 * history-error, history-selected (data-crank), history-label-name, history-label-add,
 * history-unlabel (data-label), history-label-error, history-restore,
 * history-restore-confirm, history-restore-cancel, history-restore-result,
 * history-restore-error, history-fork, history-fork-confirm, history-fork-cancel,
 * history-fork-result, history-fork-error, history-at-vat, history-at-table,
 * history-at-row (data-key), history-at-more, history-at-error, history-key-vat,
 * history-key, history-key-search, history-key-row (data-crank), history-key-error.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import {
  askKernel,
  forkKernelState,
  type HistoryPage,
} from '../../surface-client/index.ts';
import { useAction, useVats, type KernelFeed } from '../kernel.ts';
import { ErrorLine, View, download, formatBytes, formatTime, json } from '../ui.tsx';

type Commit = HistoryPage['commits'][number];

const PAGE = 200;

interface AtEntry {
  key: string;
  value: string | null;
  decoded?: unknown;
}

interface KeyChangeRow {
  seq: number;
  firstCrank: number;
  lastCrank: number;
  time?: number;
  value: string | null;
  decoded?: unknown;
}

const crankRange = (c: Commit) =>
  c.firstCrank === c.lastCrank ? `${c.lastCrank}` : `${c.firstCrank}–${c.lastCrank}`;

const shown = (entry: { value: string | null; decoded?: unknown }) =>
  entry.value === null
    ? '(deleted)'
    : entry.decoded === undefined
      ? entry.value
      : json(entry.decoded);

export function History({ feed }: { feed: KernelFeed }) {
  const [commits, setCommits] = useState<Commit[]>([]);
  const [info, setInfo] = useState<Omit<HistoryPage, 'commits'> | null>(null);
  const [selectedSeq, setSelectedSeq] = useState<number | null>(null);
  const load = useAction<true>();
  const { run } = load;

  const reload = useCallback(
    () =>
      run(async () => {
        const page = await askKernel<HistoryPage>('history', { limit: PAGE });
        setCommits(page.commits);
        setInfo({ more: page.more, total: page.total, space: page.space });
        return true;
      }),
    [run],
  );
  useEffect(() => {
    void reload();
  }, [reload]);
  const older = () =>
    run(async () => {
      const last = commits.at(-1);
      const page = await askKernel<HistoryPage>('history', {
        limit: PAGE,
        ...(last ? { before: last.seq } : {}),
      });
      setCommits([...commits, ...page.commits]);
      setInfo({ more: page.more, total: page.total, space: page.space });
      return true;
    });

  const selected = commits.find((c) => c.seq === selectedSeq) ?? null;
  const space = info?.space;
  return (
    <View name="history" title="History" busy={load.busy}>
      {space && info ? (
        <p class="muted" data-testid="history-space">
          {info.total} commit{info.total === 1 ? '' : 's'} retained; history takes{' '}
          {formatBytes(space.checkpointBytes + space.logBytes)} (checkpoints{' '}
          {formatBytes(space.checkpointBytes)}, log {formatBytes(space.logBytes)}), the
          live store {formatBytes(space.liveBytes)}.{' '}
          <button
            type="button"
            data-testid="history-reload"
            onClick={() => void reload()}
          >
            Reload
          </button>
        </p>
      ) : null}
      <ErrorLine error={load.error} testid="history-error" />
      <Timeline commits={commits} selected={selectedSeq} onSelect={setSelectedSeq} />
      <div class="split">
        <div class="scroll">
          <table data-testid="history-table">
            <thead>
              <tr>
                <th class="num">Crank</th>
                <th>Time</th>
                <th>Vats</th>
                <th class="num">Rows</th>
                <th class="num">Bytes</th>
                <th>Labels</th>
              </tr>
            </thead>
            <tbody>
              {commits.map((c) => (
                <tr
                  key={c.seq}
                  data-testid="history-row"
                  data-crank={c.lastCrank}
                  data-seq={c.seq}
                  data-between={c.between ? 'true' : undefined}
                  class={`clickable${c.seq === selectedSeq ? ' selected' : ''}`}
                  tabIndex={0}
                  onClick={() => setSelectedSeq(c.seq)}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter') setSelectedSeq(c.seq);
                  }}
                >
                  <td class="num">
                    {crankRange(c)}
                    {c.between ? <span class="muted"> (between)</span> : null}
                  </td>
                  <td>{c.time === undefined ? '–' : formatTime(c.time, true)}</td>
                  <td>
                    {c.restore ? (
                      <span class="warning">restore to crank {c.restore.crank}</span>
                    ) : (
                      c.vats.map((v) => v.name ?? v.vatId).join(', ')
                    )}
                  </td>
                  <td class="num">{c.changes}</td>
                  <td class="num">{formatBytes(c.bytes)}</td>
                  <td>{c.labels.join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {info?.more ? (
            <button
              type="button"
              data-testid="history-older"
              disabled={load.busy}
              onClick={() => void older()}
            >
              Older commits
            </button>
          ) : null}
          {commits.length === 0 && !load.busy && !load.error ? (
            <p class="muted">No commit is retained yet.</p>
          ) : null}
        </div>
        {selected ? (
          <CommitDetail
            key={selected.seq}
            commit={selected}
            newest={commits[0]?.seq === selected.seq}
            onChanged={() => void reload()}
            onRestored={() => {
              // A new boot: the live status and cranks start again.
              feed.connect({ reset: true });
              void reload();
            }}
          />
        ) : null}
      </div>
      <KeyHistory />
    </View>
  );
}

/** Each commit a tick, placed by time (by order for commits without one). */
function Timeline({
  commits,
  selected,
  onSelect,
}: {
  commits: readonly Commit[];
  selected: number | null;
  onSelect: (seq: number) => void;
}) {
  if (commits.length === 0) return null;
  const width = 900;
  const height = 56;
  const times = commits.map((c, i) => c.time ?? -i);
  const lo = Math.min(...times);
  const hi = Math.max(...times);
  const maxBytes = Math.max(...commits.map((c) => c.bytes), 1);
  const x = (t: number) =>
    hi === lo ? width / 2 : 10 + ((t - lo) / (hi - lo)) * (width - 20);
  const oldest = commits.at(-1) as Commit;
  const newest = commits[0] as Commit;
  return (
    <figure class="chart history-timeline">
      <svg
        viewBox={`0 0 ${width} ${height + 16}`}
        data-testid="history-timeline"
        role="img"
        aria-label={`commits from crank ${oldest.lastCrank} to ${newest.lastCrank}`}
      >
        <line x1={0} x2={width} y1={height} y2={height} class="axis" />
        {commits.map((c, i) => {
          const h = 6 + Math.sqrt(c.bytes / maxBytes) * (height - 12);
          const cls = `tick${c.labels.length > 0 ? ' labelled' : ''}${c.restore ? ' restore' : ''}${c.seq === selected ? ' chosen' : ''}`;
          return (
            <g
              key={c.seq}
              class={cls}
              data-testid="history-tick"
              data-crank={c.lastCrank}
              onClick={() => onSelect(c.seq)}
            >
              <title>
                crank {crankRange(c)}
                {c.time === undefined ? '' : ` at ${formatTime(c.time, true)}`},{' '}
                {formatBytes(c.bytes)}
                {c.labels.length > 0 ? `, labelled ${c.labels.join(', ')}` : ''}
              </title>
              <rect x={x(times[i] as number) - 2} y={height - h} width={4} height={h} />
            </g>
          );
        })}
        <text x={2} y={height + 12}>
          {oldest.time === undefined
            ? `crank ${oldest.lastCrank}`
            : formatTime(oldest.time)}
        </text>
        <text x={width - 2} y={height + 12} text-anchor="end">
          {newest.time === undefined
            ? `crank ${newest.lastCrank}`
            : formatTime(newest.time)}
        </text>
      </svg>
      <figcaption class="muted">
        Commits by time; a bar's height grows with the commit's bytes. Labelled commits
        and restores are marked. Click one to choose it.
      </figcaption>
    </figure>
  );
}

function CommitDetail({
  commit,
  newest,
  onChanged,
  onRestored,
}: {
  commit: Commit;
  newest: boolean;
  onChanged: () => void;
  onRestored: () => void;
}) {
  const [name, setName] = useState('');
  const labelling = useAction<true>();
  const restore = useAction<{ restoreCrank: number; undoCrank: number }>();
  const fork = useAction<{ fileName: string; size: number }>();
  const [confirm, setConfirm] = useState<'restore' | 'fork' | null>(null);
  const crank = commit.lastCrank;

  const addLabel = (event: Event) => {
    event.preventDefault();
    void labelling.run(async () => {
      await askKernel('label', { crank, name: name.trim() });
      setName('');
      onChanged();
      return true;
    });
  };
  const removeLabel = (label: string) =>
    labelling.run(async () => {
      await askKernel('unlabel', { name: label });
      onChanged();
      return true;
    });
  const doRestore = () =>
    restore.run(async () => {
      try {
        const outcome = await askKernel<{ restoreCrank: number; undoCrank: number }>(
          'restore',
          { crank },
        );
        onRestored();
        return outcome;
      } finally {
        setConfirm(null);
      }
    });
  const doFork = () =>
    fork.run(async () => {
      try {
        const { bytes, fileName } = await forkKernelState(crank);
        download(bytes, fileName);
        return { fileName, size: bytes.byteLength };
      } finally {
        setConfirm(null);
      }
    });

  return (
    <aside class="delta" data-testid="history-selected" data-crank={crank}>
      <h3>
        Crank {crankRange(commit)}
        {commit.time === undefined ? '' : `, ${formatTime(commit.time, true)}`}
      </h3>
      <p class="muted">
        {commit.changes} row{commit.changes === 1 ? '' : 's'} changed,{' '}
        {formatBytes(commit.bytes)} in the log
        {commit.vats.length > 0
          ? `; vats ${commit.vats.map((v) => (v.name ? `${v.name} (${v.vatId})` : v.vatId)).join(', ')}`
          : ''}
        {commit.restore ? `; a restore to crank ${commit.restore.crank}` : ''}.
      </p>

      <h4>Labels</h4>
      <p>
        {commit.labels.length === 0 ? <span class="muted">None. </span> : null}
        {commit.labels.map((label) => (
          <span key={label} class="label-chip">
            {label}{' '}
            <button
              type="button"
              data-testid="history-unlabel"
              data-label={label}
              title={`Remove the label ${label}`}
              disabled={labelling.busy}
              onClick={() => void removeLabel(label)}
            >
              ×
            </button>{' '}
          </span>
        ))}
      </p>
      <form class="inline" onSubmit={addLabel}>
        <input
          data-testid="history-label-name"
          placeholder="label (kept whatever the policy)"
          maxLength={64}
          value={name}
          onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
        />
        <button
          type="submit"
          data-testid="history-label-add"
          disabled={labelling.busy || name.trim() === ''}
        >
          Label
        </button>
      </form>
      <ErrorLine error={labelling.error} testid="history-label-error" />

      <h4>Restore or fork</h4>
      <p>
        <button
          type="button"
          data-testid="history-restore"
          disabled={restore.busy || confirm !== null || commit.between === true}
          title={commit.between ? 'a step between cranks: restore to its crank' : ''}
          onClick={() => setConfirm('restore')}
        >
          Restore…
        </button>{' '}
        <button
          type="button"
          data-testid="history-fork"
          disabled={fork.busy || confirm !== null}
          onClick={() => setConfirm('fork')}
        >
          Fork to a file…
        </button>
      </p>
      {confirm === 'restore' ? (
        <div class="confirm" role="alertdialog">
          <p>
            Bring the whole kernel back to the state after crank {crank}? Every vat is
            relaunched from it, as after a restart; messages queued since then are gone
            from the run queue.
            {newest
              ? ' This is the newest commit: nothing changes but a restart.'
              : ''}{' '}
            The current state stays in history: restoring to it undoes this.
          </p>
          <button
            type="button"
            class="danger"
            data-testid="history-restore-confirm"
            disabled={restore.busy}
            onClick={() => void doRestore()}
          >
            {restore.busy ? 'Restoring…' : `Restore to crank ${crank}`}
          </button>
          <button
            type="button"
            data-testid="history-restore-cancel"
            disabled={restore.busy}
            onClick={() => setConfirm(null)}
          >
            Cancel
          </button>
        </div>
      ) : null}
      {confirm === 'fork' ? (
        <div class="confirm" role="alertdialog">
          <p>
            Save the kernel as of crank {crank} as a state file? The kernel is not
            touched; import the file (State view) here or in another profile to try things
            on the copy.
          </p>
          <button
            type="button"
            data-testid="history-fork-confirm"
            disabled={fork.busy}
            onClick={() => void doFork()}
          >
            {fork.busy ? 'Forking…' : 'Save the fork'}
          </button>
          <button
            type="button"
            data-testid="history-fork-cancel"
            disabled={fork.busy}
            onClick={() => setConfirm(null)}
          >
            Cancel
          </button>
        </div>
      ) : null}
      <ErrorLine error={restore.error} testid="history-restore-error" />
      {restore.result ? (
        <p class="ok" data-testid="history-restore-result">
          Restored to crank {crank} as crank {restore.result.restoreCrank}; to undo,
          restore to crank {restore.result.undoCrank}.
        </p>
      ) : null}
      <ErrorLine error={fork.error} testid="history-fork-error" />
      {fork.result ? (
        <p class="ok" data-testid="history-fork-result">
          Saved {fork.result.fileName} ({formatBytes(fork.result.size)}).
        </p>
      ) : null}

      <VatstoreAt crank={crank} />
    </aside>
  );
}

/** A choice of one of the kernel's vats, by id. */
function VatSelect({
  testid,
  value,
  onChange,
}: {
  testid: string;
  value: string;
  onChange: (vatId: string) => void;
}) {
  const { vats } = useVats();
  return (
    <select
      data-testid={testid}
      value={value}
      onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}
    >
      <option value="">choose a vat…</option>
      {(vats ?? []).map((v) => (
        <option key={v.vatId} value={v.vatId}>
          {v.name} ({v.vatId})
        </option>
      ))}
    </select>
  );
}

/** What one vat's vatstore held after the commit: 100 keys a page. */
function VatstoreAt({ crank }: { crank: number }) {
  const [vat, setVat] = useState('');
  const [pages, setPages] = useState<AtEntry[]>([]);
  const [more, setMore] = useState(false);
  const load = useAction<true>();
  const { run } = load;
  const fetchPage = useCallback(
    (after: string | undefined, previous: AtEntry[]) =>
      run(async () => {
        const page = await askKernel<{ entries: AtEntry[]; more: boolean }>(
          'vatstoreAt',
          { crank, vat, limit: 100, ...(after === undefined ? {} : { after }) },
        );
        setPages([...previous, ...page.entries]);
        setMore(page.more);
        return true;
      }),
    [run, crank, vat],
  );
  useEffect(() => {
    if (vat !== '') void fetchPage(undefined, []);
  }, [fetchPage, vat]);
  return (
    <>
      <h4>Vatstore after crank {crank}</h4>
      <VatSelect testid="history-at-vat" value={vat} onChange={setVat} />
      <ErrorLine error={load.error} testid="history-at-error" />
      {vat !== '' && !load.error ? (
        <table class="vatstore" data-testid="history-at-table">
          <thead>
            <tr>
              <th>Key</th>
              <th>Value</th>
            </tr>
          </thead>
          <tbody>
            {pages.map((e) => (
              <tr key={e.key} data-testid="history-at-row" data-key={e.key}>
                <td class="mono wrap">{e.key}</td>
                <td>
                  <pre class="cell">{shown(e)}</pre>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {more ? (
        <button
          type="button"
          data-testid="history-at-more"
          disabled={load.busy}
          onClick={() => void fetchPage(pages.at(-1)?.key, pages)}
        >
          More keys
        </button>
      ) : null}
    </>
  );
}

/** The retained commits that changed one key of a vat's vatstore. */
function KeyHistory() {
  const [vat, setVat] = useState('');
  const [key, setKey] = useState('');
  const search = useAction<KeyChangeRow[]>();
  const submit = (event: Event) => {
    event.preventDefault();
    void search.run(async () => {
      const { changes } = await askKernel<{ changes: KeyChangeRow[] }>('keyHistory', {
        vat,
        key,
      });
      return changes;
    });
  };
  return (
    <>
      <h3>A key's history</h3>
      <form class="inline" onSubmit={submit}>
        <VatSelect testid="history-key-vat" value={vat} onChange={setVat} />
        <input
          data-testid="history-key"
          class="mono"
          placeholder="vatstore key"
          value={key}
          onInput={(e) => setKey((e.currentTarget as HTMLInputElement).value)}
        />
        <button
          type="submit"
          data-testid="history-key-search"
          disabled={search.busy || vat === '' || key === ''}
        >
          Show changes
        </button>
      </form>
      <ErrorLine error={search.error} testid="history-key-error" />
      {search.result ? (
        search.result.length === 0 ? (
          <p class="muted">No retained commit changed that key.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th class="num">Crank</th>
                <th>Time</th>
                <th>Value</th>
              </tr>
            </thead>
            <tbody>
              {search.result.map((c) => (
                <tr key={c.seq} data-testid="history-key-row" data-crank={c.lastCrank}>
                  <td class="num">{c.lastCrank}</td>
                  <td>{c.time === undefined ? '–' : formatTime(c.time, true)}</td>
                  <td>
                    <pre class="cell">{shown(c)}</pre>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : null}
    </>
  );
}
