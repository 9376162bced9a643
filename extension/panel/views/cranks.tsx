/**
 * Cranks: the cranks the durable crank log notes, newest first, 200 a page ("Load older"
 * for the next), joined by the live crank events as they commit — so they are still
 * there after the service worker stops or the browser restarts. Filters by vat, kind,
 * method (a part of its name) and outcome. A row shows the vat by name, the target and
 * result krefs and what became of the result (fulfilled, rejected, pending). Clicking a
 * row loads that crank's delta (crankDelta): the keys it set, old → new, and the keys it
 * deleted, values decoded as the Vatstore view decodes them ("raw" shows the capdata).
 *
 * data-testids: crank-filter-vat, crank-filter-kind, crank-filter-method,
 * crank-filter-outcome, cranks-count, cranks-table, crank-row (data-crank,
 * data-outcome), crank-outcome, cranks-older, cranks-error, crank-delta (data-crank),
 * delta-raw (checkbox), delta-set (data-key), delta-delete (data-key), crank-delta-error.
 */
import { useState } from 'preact/hooks';
import { askKernel } from '../../surface-client/index.ts';
import {
  CRANK_OUTCOMES,
  shownOutcome,
  type ShownOutcome,
} from '../../surface-protocol/index.ts';
import {
  useAction,
  useCrankLog,
  useVats,
  type CrankFilters,
  type FeedState,
  type PanelCrank,
} from '../kernel.ts';
import { ErrorLine, View, formatMs, formatTime, json } from '../ui.tsx';

/** The run-queue item kinds a crank can be. */
const KINDS = [
  'send',
  'notify',
  'startVat',
  'dropExports',
  'retireExports',
  'retireImports',
  'bringOutYourDead',
  'settle',
  'vatTimers',
  'upgradeVat',
] as const;

interface DeltaValue {
  key: string;
  old: string | null;
  oldDecoded?: unknown;
}

interface CrankDelta {
  crank: number;
  vatId: string | null;
  from: 'memory' | 'log';
  oldKnown: boolean;
  group?: { firstCrank: number; lastCrank: number };
  sets: (DeltaValue & { new: string; newDecoded?: unknown })[];
  deletes: DeltaValue[];
}

const OUTCOME_CLASS: Record<ShownOutcome, string> = {
  ok: 'ok',
  fulfilled: 'ok',
  rejected: 'bad',
  fault: 'bad',
  pending: 'muted',
  'no-delivery': 'muted',
};

export function Cranks({ state }: { state: FeedState }) {
  const [filters, setFilters] = useState<CrankFilters>({});
  const [methodInput, setMethodInput] = useState('');
  const log = useCrankLog(state, filters);
  const { vats } = useVats();
  const names = new Map((vats ?? []).map((v) => [v.vatId, v.name]));
  const [selected, setSelected] = useState<number | null>(null);
  const [raw, setRaw] = useState(false);
  const delta = useAction<CrankDelta>({ latest: true });
  const open = (crank: number) => {
    setSelected(crank);
    void delta.run(() => askKernel<CrankDelta>('crankDelta', { crank }));
  };
  const set = (patch: Partial<CrankFilters>) => {
    // An emptied filter is no filter.
    const entries = Object.entries({ ...filters, ...patch }).filter(
      ([, v]) => v !== undefined && v !== '',
    );
    setFilters(Object.fromEntries(entries) as CrankFilters);
  };

  return (
    <View name="cranks" title="Cranks" busy={log.busy || delta.busy}>
      <form
        class="toolbar crank-filters"
        onSubmit={(e) => {
          e.preventDefault();
          set({ method: methodInput.trim() || undefined });
        }}
      >
        <select
          data-testid="crank-filter-vat"
          aria-label="Vat"
          value={filters.vat ?? ''}
          onChange={(e) => set({ vat: e.currentTarget.value || undefined })}
        >
          <option value="">every vat</option>
          {(vats ?? []).map((v) => (
            <option key={v.vatId} value={v.vatId}>
              {v.name} ({v.vatId})
            </option>
          ))}
        </select>
        <select
          data-testid="crank-filter-kind"
          aria-label="Kind"
          value={filters.kind ?? ''}
          onChange={(e) => set({ kind: e.currentTarget.value || undefined })}
        >
          <option value="">every kind</option>
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
        <input
          data-testid="crank-filter-method"
          aria-label="Method"
          placeholder="method"
          value={methodInput}
          onInput={(e) => setMethodInput(e.currentTarget.value)}
          onBlur={() => set({ method: methodInput.trim() || undefined })}
        />
        <select
          data-testid="crank-filter-outcome"
          aria-label="Outcome"
          value={filters.outcome ?? ''}
          onChange={(e) =>
            set({ outcome: (e.currentTarget.value || undefined) as ShownOutcome })
          }
        >
          <option value="">every outcome</option>
          {CRANK_OUTCOMES.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
        <span class="muted" data-testid="cranks-count">
          {log.cranks.length}
          {log.total !== null && log.total > log.cranks.length
            ? ` of ${log.total}`
            : ''}{' '}
          cranks
        </span>
      </form>
      <ErrorLine error={log.error ?? state.cranksError} testid="cranks-error" />
      <div class="split">
        <div class="scroll crank-scroll">
          <table data-testid="cranks-table" class="cranks">
            <thead>
              <tr>
                <th class="num">Crank</th>
                <th>Outcome</th>
                <th>Vat</th>
                <th>Method</th>
                <th class="num">ms</th>
                <th class="num">Δ keys</th>
                <th>Kind</th>
                <th>Target</th>
                <th>Result</th>
                <th>At</th>
              </tr>
            </thead>
            <tbody>
              {log.cranks.map((c) => (
                <CrankRow
                  key={c.crank}
                  crank={c}
                  vatName={c.vatName ?? (c.vatId ? names.get(c.vatId) : undefined)}
                  selected={c.crank === selected}
                  onOpen={open}
                />
              ))}
            </tbody>
          </table>
          {log.cranks.length === 0 && !log.busy && !log.error ? (
            <p class="muted">
              No cranks{Object.keys(filters).length > 0 ? ' match' : ' yet'}.
            </p>
          ) : null}
          {log.more ? (
            <button
              type="button"
              data-testid="cranks-older"
              disabled={log.busy}
              onClick={log.loadOlder}
            >
              Load older
            </button>
          ) : null}
        </div>
        {selected === null ? null : (
          <aside class="delta" data-testid="crank-delta" data-crank={selected}>
            <h3>Crank {selected}</h3>
            <label class="raw-toggle">
              <input
                type="checkbox"
                data-testid="delta-raw"
                checked={raw}
                onChange={(e) => setRaw(e.currentTarget.checked)}
              />{' '}
              raw
            </label>
            <ErrorLine error={delta.error} testid="crank-delta-error" />
            {delta.result && delta.result.crank === selected ? (
              <DeltaTables delta={delta.result} raw={raw} />
            ) : null}
          </aside>
        )}
      </div>
    </View>
  );
}

function CrankRow({
  crank: c,
  vatName,
  selected,
  onOpen,
}: {
  crank: PanelCrank;
  vatName: string | undefined;
  selected: boolean;
  onOpen: (crank: number) => void;
}) {
  const outcome = shownOutcome(c);
  const why = c.detail ?? (outcome === 'rejected' ? c.rejection : undefined);
  return (
    <tr
      data-testid="crank-row"
      data-crank={c.crank}
      data-outcome={outcome}
      class={`clickable outcome-${outcome}${selected ? ' selected' : ''}`}
      title={why}
      tabIndex={0}
      onClick={() => onOpen(c.crank)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') onOpen(c.crank);
      }}
    >
      <td class="num">{c.crank}</td>
      <td class={OUTCOME_CLASS[outcome]} data-testid="crank-outcome">
        {outcome}
        {c.settledIn !== undefined && c.settledIn !== c.crank ? (
          <span class="detail">{` in ${c.settledIn}`}</span>
        ) : null}
        {why ? <span class="detail">: {why}</span> : null}
      </td>
      <td>
        {vatName ?? ''}
        {c.vatId ? <span class="muted mono"> {c.vatId}</span> : null}
      </td>
      <td>{c.method ?? ''}</td>
      <td class="num">{formatMs(c.durationMs)}</td>
      <td class="num">{c.deltaKeys}</td>
      <td>{c.kind}</td>
      <td class="mono">{c.target ?? ''}</td>
      <td class="mono">{c.result ?? ''}</td>
      <td>{c.at === undefined ? '' : formatTime(c.at, true)}</td>
    </tr>
  );
}

/** A vatstore value: decoded (as the Vatstore view shows it) unless raw is asked for. */
function Value({
  raw,
  value,
  decoded,
  hasDecoded,
  cls,
}: {
  raw: boolean;
  value: string;
  decoded: unknown;
  hasDecoded: boolean;
  cls: string;
}) {
  return <pre class={`cell ${cls}`}>{raw || !hasDecoded ? value : json(decoded)}</pre>;
}

function DeltaTables({ delta, raw }: { delta: CrankDelta; raw: boolean }) {
  return (
    <>
      <p class="muted">
        {delta.vatId ? `vat ${delta.vatId}: ` : ''}
        {delta.sets.length} set, {delta.deletes.length} deleted
        {delta.group
          ? ` (written with cranks ${delta.group.firstCrank}–${delta.group.lastCrank} as one record: their changes to this vat together)`
          : ''}
        {delta.oldKnown ? '' : ' (some old values are no longer in the log)'}
      </p>
      {delta.sets.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th>Key</th>
              <th>Old</th>
              <th>New</th>
            </tr>
          </thead>
          <tbody>
            {delta.sets.map((s) => (
              <tr key={s.key} data-testid="delta-set" data-key={s.key}>
                <td class="mono wrap">{s.key}</td>
                <td>
                  {s.old === null ? (
                    <span class="muted">(new key)</span>
                  ) : (
                    <Value
                      raw={raw}
                      value={s.old}
                      decoded={s.oldDecoded}
                      hasDecoded={'oldDecoded' in s}
                      cls="old"
                    />
                  )}
                </td>
                <td>
                  <Value
                    raw={raw}
                    value={s.new}
                    decoded={s.newDecoded}
                    hasDecoded={'newDecoded' in s}
                    cls="new"
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {delta.deletes.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th>Deleted key</th>
              <th>Old</th>
            </tr>
          </thead>
          <tbody>
            {delta.deletes.map((d) => (
              <tr key={d.key} data-testid="delta-delete" data-key={d.key}>
                <td class="mono wrap">{d.key}</td>
                <td>
                  {d.old === null ? (
                    <span class="muted">(unknown)</span>
                  ) : (
                    <Value
                      raw={raw}
                      value={d.old}
                      decoded={d.oldDecoded}
                      hasDecoded={'oldDecoded' in d}
                      cls="old"
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}
