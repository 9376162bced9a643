/**
 * Objects: the kernel's objects, promises and run queue, as the kernel holds them.
 *
 * - C-list of a vat (chosen above): what it exports (`o+`/`p+`, it made them) and imports
 *   (`o-`/`p-`), each kref with its vref, owner, reachable and recognizable counts, the
 *   vats that hold it (its importers) and the callers that pinned it (`objects`).
 * - Promises: state, decider, subscribers, the messages queued on it, and its
 *   resolution decoded (`promises`, filtered by state).
 * - Run queue, in the order it runs, and the items held for suspended vats (`runQueue`):
 *   pause the run queue (Overview) to see what waits.
 *
 * Every kref is a link to its row (an object's row in its owner's c-list), next to its
 * vat's link (the Vats view, `#vats?vat=…`) and a Send link (`#send?target=…`, see
 * ../links.ts). Pages of 200, "More" for the next; reloaded after crank events (at most
 * once a second). `#objects?vat=VATID&kref=KREF` opens a vat's c-list at a kref.
 *
 * data-testids: objects-vat (select), objects-refresh, objects-error, clist-table,
 * clist-row (data-kref, data-direction), clist-direction (select), clist-more,
 * promises-table, promise-row (data-kpid, data-state), promises-state (select),
 * promises-more, runqueue-table, runqueue-row (data-seq, data-kind), runqueue-summary,
 * runqueue-more, held-table, held-row, kref-link (data-kref), kref-send, vat-link
 * (data-vat-id).
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import {
  askKernel,
  type ClistEntryReport,
  type MessageReport,
  type ObjectsPage,
  type PromiseReport,
  type PromisesPage,
  type QueueItemReport,
  type RunQueuePage,
  type TimerReport,
  type TimersPage,
} from '../../surface-client/index.ts';
import { errorText, useCoalesced, useVats, type KernelFeed } from '../kernel.ts';
import { hashParams, sendHref, vatHref } from '../links.ts';
import { ErrorLine, View, json } from '../ui.tsx';

/** Rows a page asks for; a reload after a crank asks for what is shown, up to 1,000. */
const PAGE = 200;
const MAX_RELOAD = 1000;

type Direction = 'all' | 'export' | 'import';
type PromiseFilter = 'all' | 'unresolved' | 'fulfilled' | 'rejected';

/** Goes to a kref's row: an object's in its owner's c-list, a promise's in Promises. */
type GoTo = (kref: string, owner?: string | null) => void;

export function Objects({ feed }: { feed: KernelFeed }) {
  const { vats } = useVats();
  const [initial] = useState(() => hashParams('objects'));
  const [vatId, setVatId] = useState(initial?.get('vat') ?? '');
  const [selected, setSelected] = useState<string | null>(initial?.get('kref') ?? null);
  const [direction, setDirection] = useState<Direction>('all');
  const [promiseFilter, setPromiseFilter] = useState<PromiseFilter>('all');
  const [clist, setClist] = useState<ObjectsPage | null>(null);
  const [promises, setPromises] = useState<PromisesPage | null>(null);
  const [queue, setQueue] = useState<RunQueuePage | null>(null);
  const [timers, setTimers] = useState<TimersPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(0);
  const chosen = vatId || vats?.[0]?.vatId || '';
  const names = new Map((vats ?? []).map((v) => [v.vatId, v.name]));

  const track = useCallback(async (work: () => Promise<void>) => {
    setBusy((n) => n + 1);
    try {
      await work();
      setError(null);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy((n) => n - 1);
    }
  }, []);

  const loadClist = useCallback(
    (limit = PAGE) =>
      track(async () => {
        if (chosen === '') return;
        setClist(await askKernel<ObjectsPage>('objects', { vatId: chosen, limit }));
      }),
    [chosen, track],
  );
  const loadPromises = useCallback(
    (limit = PAGE) =>
      track(async () => {
        setPromises(
          await askKernel<PromisesPage>('promises', {
            limit,
            ...(promiseFilter === 'all' ? {} : { state: promiseFilter }),
          }),
        );
      }),
    [promiseFilter, track],
  );
  const loadQueue = useCallback(
    (limit = PAGE) =>
      track(async () => {
        setQueue(await askKernel<RunQueuePage>('runQueue', { limit }));
      }),
    [track],
  );

  useEffect(() => void loadClist(), [loadClist]);
  useEffect(() => void loadPromises(), [loadPromises]);
  const loadTimers = useCallback(
    (limit = PAGE) =>
      track(async () => {
        setTimers(await askKernel<TimersPage>('timers', { limit }));
      }),
    [track],
  );

  useEffect(() => void loadQueue(), [loadQueue]);
  useEffect(() => void loadTimers(), [loadTimers]);

  const shown = (n: number | undefined) => Math.min(Math.max(n ?? 0, PAGE), MAX_RELOAD);
  const reload = () => {
    void loadClist(shown(clist?.entries.length));
    void loadPromises(shown(promises?.promises.length));
    void loadQueue(shown(queue?.items.length));
    void loadTimers(shown(timers?.timers.length));
  };
  const reloadSoon = useCoalesced(reload, 1000);
  useEffect(() => feed.onCrank(reloadSoon), [feed, reloadSoon]);

  const moreClist = () =>
    track(async () => {
      if (!clist) return;
      const next = await askKernel<ObjectsPage>('objects', {
        vatId: clist.vatId,
        after: clist.entries.at(-1)?.kref,
        limit: PAGE,
      });
      setClist({ ...next, entries: [...clist.entries, ...next.entries] });
    });
  const morePromises = () =>
    track(async () => {
      if (!promises) return;
      const next = await askKernel<PromisesPage>('promises', {
        after: promises.promises.at(-1)?.kpid,
        limit: PAGE,
        ...(promiseFilter === 'all' ? {} : { state: promiseFilter }),
      });
      setPromises({ ...next, promises: [...promises.promises, ...next.promises] });
    });
  const moreQueue = () =>
    track(async () => {
      if (!queue) return;
      const next = await askKernel<RunQueuePage>('runQueue', {
        after: queue.items.at(-1)?.seq,
        limit: PAGE,
      });
      setQueue({ ...next, items: [...queue.items, ...next.items] });
    });

  const goTo: GoTo = (kref, owner) => {
    if (kref.startsWith('ko') && owner && owner !== chosen) setVatId(owner);
    if (kref.startsWith('kp') && promiseFilter !== 'all') setPromiseFilter('all');
    setSelected(kref);
  };
  // Brings the chosen kref's row into view once it is rendered.
  useEffect(() => {
    if (selected === null) return;
    const row = document.querySelector(
      `[data-view="objects"] tr[data-kref="${selected}"], [data-view="objects"] tr[data-kpid="${selected}"]`,
    );
    row?.scrollIntoView({ block: 'nearest' });
  }, [selected, clist, promises]);

  const entries = (clist?.entries ?? []).filter(
    (e) => direction === 'all' || e.direction === direction,
  );
  const exports = clist?.entries.filter((e) => e.direction === 'export').length ?? 0;
  const imports = (clist?.entries.length ?? 0) - exports;

  return (
    <View name="objects" title="Objects, promises and the run queue" busy={busy > 0}>
      <div class="toolbar">
        <label>
          Vat{' '}
          <select
            data-testid="objects-vat"
            value={chosen}
            onChange={(e) => {
              setVatId(e.currentTarget.value);
              setSelected(null);
            }}
          >
            {(vats ?? []).map((v) => (
              <option key={v.vatId} value={v.vatId}>
                {v.name} ({v.vatId}, {v.state})
              </option>
            ))}
          </select>
        </label>
        <label>
          Show{' '}
          <select
            data-testid="clist-direction"
            value={direction}
            onChange={(e) => setDirection(e.currentTarget.value as Direction)}
          >
            <option value="all">exports and imports</option>
            <option value="export">exports</option>
            <option value="import">imports</option>
          </select>
        </label>
        <button type="button" data-testid="objects-refresh" onClick={reload}>
          Refresh
        </button>
      </div>
      <ErrorLine error={error} testid="objects-error" />

      <h3>
        C-list of {clist ? `${clist.name} (${clist.vatId})` : '…'}
        {clist ? (
          <span class="busy">
            {exports} exports, {imports} imports{clist.more ? ' so far' : ''}
          </span>
        ) : null}
      </h3>
      <div class="objects-box">
        <table class="objects" data-testid="clist-table">
          <thead>
            <tr>
              <th>Kref</th>
              <th>Vref</th>
              <th>Dir.</th>
              <th>Owner</th>
              <th class="num" title="reachable count (objects) or refcount (promises)">
                Reach.
              </th>
              <th class="num" title="recognizable count">
                Recog.
              </th>
              <th>Held by</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <ClistRow
                key={e.kref}
                entry={e}
                selected={selected === e.kref}
                names={names}
                goTo={goTo}
              />
            ))}
          </tbody>
        </table>
      </div>
      {clist && clist.entries.length === 0 ? (
        <p class="muted">Its c-list is empty.</p>
      ) : null}
      {clist?.more ? (
        <button type="button" data-testid="clist-more" onClick={() => void moreClist()}>
          More
        </button>
      ) : null}

      <h3>Promises</h3>
      <div class="toolbar">
        <label>
          State{' '}
          <select
            data-testid="promises-state"
            value={promiseFilter}
            onChange={(e) => setPromiseFilter(e.currentTarget.value as PromiseFilter)}
          >
            <option value="all">any</option>
            <option value="unresolved">unresolved</option>
            <option value="fulfilled">fulfilled</option>
            <option value="rejected">rejected</option>
          </select>
        </label>
        <span class="muted">
          Settled promises show while something still refers to them.
        </span>
      </div>
      <div class="objects-box">
        <table class="objects" data-testid="promises-table">
          <thead>
            <tr>
              <th>Kpid</th>
              <th>State</th>
              <th>Decider</th>
              <th class="num">Refs</th>
              <th>Subscribers</th>
              <th>Queued messages</th>
              <th>Resolution</th>
            </tr>
          </thead>
          <tbody>
            {(promises?.promises ?? []).map((p) => (
              <PromiseRow
                key={p.kpid}
                promise={p}
                selected={selected === p.kpid}
                names={names}
                goTo={goTo}
              />
            ))}
          </tbody>
        </table>
      </div>
      {promises && promises.promises.length === 0 ? (
        <p class="muted">No promises.</p>
      ) : null}
      {promises?.more ? (
        <button
          type="button"
          data-testid="promises-more"
          onClick={() => void morePromises()}
        >
          More
        </button>
      ) : null}

      <h3>Run queue</h3>
      {queue ? (
        <p data-testid="runqueue-summary" data-paused={queue.paused ? 'true' : 'false'}>
          {queue.length} {queue.length === 1 ? 'item' : 'items'}
          {queue.paused ? ', paused: nothing runs until it is resumed (Overview)' : ''}
        </p>
      ) : null}
      <QueueTable
        items={queue?.items ?? []}
        names={names}
        goTo={goTo}
        testid="runqueue"
      />
      {queue?.more ? (
        <button
          type="button"
          data-testid="runqueue-more"
          onClick={() => void moreQueue()}
        >
          More
        </button>
      ) : null}
      {queue && queue.held.length > 0 ? (
        <>
          <h3>Held for suspended vats</h3>
          <QueueTable items={queue.held} names={names} goTo={goTo} testid="held" />
        </>
      ) : null}

      <h3>Timers</h3>
      {timers ? (
        <p data-testid="timers-summary">
          {timers.total === 0
            ? 'No pending wake-ups.'
            : `${timers.total} pending ${timers.total === 1 ? 'wake-up' : 'wake-ups'} of the timer service, the next first`}
          {timers.more ? ` (the first ${timers.timers.length} shown)` : ''}
        </p>
      ) : null}
      {timers && timers.timers.length > 0 ? (
        <TimersTable timers={timers.timers} names={names} goTo={goTo} />
      ) : null}
    </View>
  );
}

/** The timer service's pending wake-ups (docs/timers.md), in the order they come due. */
function TimersTable({
  timers,
  names,
  goTo,
}: {
  timers: readonly TimerReport[];
  names: Map<string, string>;
  goTo: GoTo;
}) {
  const ref = (kref: string | null) =>
    kref === null ? <span class="muted">—</span> : <Kref kref={kref} goTo={goTo} />;
  return (
    <div class="objects-box">
      <table data-testid="timers">
        <thead>
          <tr>
            <th class="num">Id</th>
            <th>Due</th>
            <th>Asked by</th>
            <th>Repeats</th>
            <th>Handler</th>
            <th>Result</th>
            <th>Cancel token</th>
          </tr>
        </thead>
        <tbody>
          {timers.map((t) => (
            <tr key={t.timerId} data-testid="timer-row" data-timer-id={t.timerId}>
              <td class="num">{t.timerId}</td>
              <td title={new Date(t.due).toISOString()}>
                {new Date(t.due).toLocaleString()}
              </td>
              <td>
                {t.owner === null ? (
                  <span class="muted">outside the kernel</span>
                ) : (
                  <VatLink vatId={t.owner} names={names} />
                )}
              </td>
              <td>{t.interval === null ? 'once' : `every ${t.interval} ms`}</td>
              <td>{ref(t.handler)}</td>
              <td>{ref(t.resultKpid)}</td>
              <td>{ref(t.cancelToken)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ClistRow({
  entry: e,
  selected,
  names,
  goTo,
}: {
  entry: ClistEntryReport;
  selected: boolean;
  names: Map<string, string>;
  goTo: GoTo;
}) {
  const promise = e.kind === 'promise';
  return (
    <tr
      data-testid="clist-row"
      data-kref={e.kref}
      data-direction={e.direction}
      class={selected ? 'selected' : undefined}
    >
      <td>
        <Kref kref={e.kref} owner={e.owner} goTo={goTo} />
      </td>
      <td class="mono">{e.vref}</td>
      <td>{e.direction}</td>
      <td>
        {e.owner ? (
          <VatLink vatId={e.owner} names={names} />
        ) : (
          <span class="muted">kernel</span>
        )}
        {promise && e.state ? <span class="muted"> ({e.state})</span> : null}
      </td>
      <td class="num">{promise ? e.refcount : e.reachable}</td>
      <td class="num">{promise ? '' : e.recognizable}</td>
      <td>
        <VatList vatIds={e.importers ?? []} names={names} />
        {e.pinnedBy.length > 0 ? (
          <span class="muted" title="outside callers that pinned it">
            {' '}
            pinned by {e.pinnedBy.join(', ')}
          </span>
        ) : null}
        {e.reachableFlag ? null : <span class="muted"> (recognizable only)</span>}
      </td>
    </tr>
  );
}

function PromiseRow({
  promise: p,
  selected,
  names,
  goTo,
}: {
  promise: PromiseReport;
  selected: boolean;
  names: Map<string, string>;
  goTo: GoTo;
}) {
  return (
    <tr
      data-testid="promise-row"
      data-kpid={p.kpid}
      data-state={p.state}
      class={selected ? 'selected' : undefined}
    >
      <td>
        <Kref kref={p.kpid} owner={p.decider} goTo={goTo} />
      </td>
      <td class={p.state === 'rejected' ? 'bad' : p.state === 'fulfilled' ? 'ok' : ''}>
        {p.state}
      </td>
      <td>
        {p.decider ? (
          <VatLink vatId={p.decider} names={names} />
        ) : (
          <span class="muted">{p.state === 'unresolved' ? 'kernel' : ''}</span>
        )}
      </td>
      <td class="num">{p.refcount}</td>
      <td>
        <VatList vatIds={p.subscribers} names={names} />
      </td>
      <td>
        {p.queued.map((m, i) => (
          <div key={i} class="queued-message">
            <Message message={m} goTo={goTo} />
          </div>
        ))}
        {p.queuedCount > p.queued.length ? (
          <span class="muted">and {p.queuedCount - p.queued.length} more</span>
        ) : null}
      </td>
      <td>{'value' in p ? <pre class="cell">{json(p.value)}</pre> : null}</td>
    </tr>
  );
}

function QueueTable({
  items,
  names,
  goTo,
  testid,
}: {
  items: ReadonlyArray<QueueItemReport & { heldFor?: string }>;
  names: Map<string, string>;
  goTo: GoTo;
  testid: 'runqueue' | 'held';
}) {
  const held = testid === 'held';
  return (
    <div class="objects-box">
      <table class="objects" data-testid={`${testid}-table`}>
        <thead>
          <tr>
            <th class="num">Seq</th>
            <th>Kind</th>
            {held ? <th>Held for</th> : null}
            <th>Target</th>
            <th>Message</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr
              key={item.seq}
              data-testid={`${testid}-row`}
              data-seq={item.seq}
              data-kind={item.kind}
            >
              <td class="num">{item.seq}</td>
              <td>{item.kind}</td>
              {held ? (
                <td>
                  {item.heldFor ? <VatLink vatId={item.heldFor} names={names} /> : null}
                </td>
              ) : null}
              <td>
                {item.target ? (
                  <>
                    <Kref
                      kref={item.target}
                      owner={item.owner}
                      method={item.message?.method ?? undefined}
                      goTo={goTo}
                    />
                    {item.owner ? (
                      <>
                        {' '}
                        <VatLink vatId={item.owner} names={names} />
                      </>
                    ) : null}
                  </>
                ) : item.vatId ? (
                  <VatLink vatId={item.vatId} names={names} />
                ) : null}
              </td>
              <td>
                {item.message ? <Message message={item.message} goTo={goTo} /> : null}
                {item.kpid ? <Kref kref={item.kpid} goTo={goTo} /> : null}
                {item.krefs ? <span class="mono">{item.krefs.join(' ')}</span> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {items.length === 0 ? <p class="muted">Empty.</p> : null}
    </div>
  );
}

/** `method(args) → result`, the result promise a link. */
function Message({ message: m, goTo }: { message: MessageReport; goTo: GoTo }) {
  const args = Array.isArray(m.args)
    ? m.args.map((a) => JSON.stringify(a)).join(', ')
    : json(m.args);
  return (
    <span class="mono wrap">
      {m.method ?? '?'}({args})
      {m.result ? (
        <>
          {' → '}
          <Kref kref={m.result} goTo={goTo} />
        </>
      ) : null}
    </span>
  );
}

/** A kref: a link to its row, and one to Send with it as the target. */
function Kref({
  kref,
  owner,
  method,
  goTo,
}: {
  kref: string;
  owner?: string | null | undefined;
  method?: string | undefined;
  goTo: GoTo;
}) {
  return (
    <span class="kref">
      <button
        type="button"
        class="link mono"
        data-testid="kref-link"
        data-kref={kref}
        title={
          kref.startsWith('kp') ? 'its row in Promises' : "its row in its owner's c-list"
        }
        onClick={() => goTo(kref, owner)}
      >
        {kref}
      </button>
      <a
        class="kref-send"
        href={sendHref(kref, method)}
        data-testid="kref-send"
        title={`Send a message to ${kref}`}
      >
        send
      </a>
    </span>
  );
}

function VatLink({ vatId, names }: { vatId: string; names: Map<string, string> }) {
  return (
    <a href={vatHref(vatId)} data-testid="vat-link" data-vat-id={vatId} title={vatId}>
      {names.get(vatId) ?? vatId}
    </a>
  );
}

function VatList({ vatIds, names }: { vatIds: string[]; names: Map<string, string> }) {
  return (
    <>
      {vatIds.map((vatId, i) => (
        <span key={vatId}>
          {i > 0 ? ', ' : ''}
          <VatLink vatId={vatId} names={names} />
        </span>
      ))}
    </>
  );
}
