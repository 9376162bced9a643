/**
 * Cranks: the recent cranks, newest first (recentCranks, then live crank events; at
 * most 500 kept). Clicking a row loads that crank's delta (crankDelta): the keys it
 * set, old → new, and the keys it deleted.
 *
 * data-testids: cranks-table, crank-row (data-crank, data-outcome), cranks-error,
 * crank-delta (data-crank), delta-set (data-key), delta-delete (data-key),
 * crank-delta-error.
 */
import { useState } from 'preact/hooks';
import { askKernel } from '../../surface-client/index.ts';
import { useAction, type CrankInfo, type FeedState } from '../kernel.ts';
import { ErrorLine, View, formatMs, formatTime } from '../ui.tsx';

interface CrankDelta {
  crank: number;
  vatId: string | null;
  sets: { key: string; old: string | null; new: string }[];
  deletes: { key: string; old: string | null }[];
}

export function Cranks({ state }: { state: FeedState }) {
  const [selected, setSelected] = useState<number | null>(null);
  const delta = useAction<CrankDelta>({ latest: true });
  const open = (crank: number) => {
    setSelected(crank);
    void delta.run(() => askKernel<CrankDelta>('crankDelta', { crank }));
  };
  const cranks = [...state.cranks].reverse();

  return (
    <View name="cranks" title="Cranks" busy={delta.busy}>
      <ErrorLine error={state.cranksError} testid="cranks-error" />
      <div class="split">
        <div class="scroll">
          <table data-testid="cranks-table" class="cranks">
            <thead>
              <tr>
                <th class="num">Crank</th>
                <th>At</th>
                <th>Kind</th>
                <th>Vat</th>
                <th>Method</th>
                <th>Outcome</th>
                <th class="num">ms</th>
                <th class="num">Δ keys</th>
              </tr>
            </thead>
            <tbody>
              {cranks.map((c) => (
                <CrankRow
                  key={c.crank}
                  crank={c}
                  selected={c.crank === selected}
                  onOpen={open}
                />
              ))}
            </tbody>
          </table>
          {cranks.length === 0 && !state.cranksError ? (
            <p class="muted">No cranks yet.</p>
          ) : null}
        </div>
        {selected === null ? null : (
          <aside class="delta" data-testid="crank-delta" data-crank={selected}>
            <h3>Crank {selected}</h3>
            <ErrorLine error={delta.error} testid="crank-delta-error" />
            {delta.result && delta.result.crank === selected ? (
              <DeltaTables delta={delta.result} />
            ) : null}
          </aside>
        )}
      </div>
    </View>
  );
}

function CrankRow({
  crank: c,
  selected,
  onOpen,
}: {
  crank: CrankInfo;
  selected: boolean;
  onOpen: (crank: number) => void;
}) {
  return (
    <tr
      data-testid="crank-row"
      data-crank={c.crank}
      data-outcome={c.outcome}
      class={`clickable outcome-${c.outcome}${selected ? ' selected' : ''}`}
      title={c.detail}
      tabIndex={0}
      onClick={() => onOpen(c.crank)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') onOpen(c.crank);
      }}
    >
      <td class="num">{c.crank}</td>
      <td>{formatTime(c.at, true)}</td>
      <td>{c.kind}</td>
      <td class="mono">{c.vatId ?? ''}</td>
      <td>{c.method ?? ''}</td>
      <td class={c.outcome === 'ok' ? 'ok' : c.outcome === 'fault' ? 'bad' : 'muted'}>
        {c.outcome}
        {c.detail ? <span class="detail">: {c.detail}</span> : null}
      </td>
      <td class="num">{formatMs(c.durationMs)}</td>
      <td class="num">{c.deltaKeys}</td>
    </tr>
  );
}

function DeltaTables({ delta }: { delta: CrankDelta }) {
  return (
    <>
      <p class="muted">
        {delta.vatId ? `vat ${delta.vatId}: ` : ''}
        {delta.sets.length} set, {delta.deletes.length} deleted
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
                    <pre class="cell old">{s.old}</pre>
                  )}
                </td>
                <td>
                  <pre class="cell new">{s.new}</pre>
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
                    <pre class="cell old">{d.old}</pre>
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
