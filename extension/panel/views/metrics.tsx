/**
 * Metrics: charts over the last 500 cranks of the durable crank log (the `cranks`
 * request, joined by live crank events), so they outlast a stopped worker: crank
 * latency, delta bytes per crank, a timeline of each vat's cranks (when each ran and for
 * how long), and the store's and the log's size over time (the log: the retained
 * records of `history`, added up; the store: live cranks' sizes and the status).
 *
 * Hand-written SVG drawn at the size it is shown (measured), so its text is a fixed
 * 12 px whatever the width; axes say what they measure and in which unit; every point
 * and bar has a title (the hover value).
 *
 * data-testids: chart-latency, chart-delta-bytes, chart-timeline, chart-sizes (each a
 * <figure> with data-points = the number of points or bars), chart-point (a point or
 * bar, its <title> the value), metrics-error.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { askKernel, type HistoryPage } from '../../surface-client/index.ts';
import { shownOutcome } from '../../surface-protocol/index.ts';
import {
  errorText,
  useCrankLog,
  useVats,
  type FeedState,
  type PanelCrank,
} from '../kernel.ts';
import { ErrorLine, View, formatBytes, formatMs, formatTime } from '../ui.tsx';

const CRANKS = 500;
const HEIGHT = 200;
/** Room for the y axis's tick labels and its title, and for the x axis's. */
const LEFT = 78;
const RIGHT = 14;
const TOP = 12;
const BOTTOM = 40;

interface Point {
  x: number;
  y: number;
  title: string;
}

interface Series {
  name: string;
  cls: string;
  points: Point[];
}

export function Metrics({ state }: { state: FeedState }) {
  const log = useCrankLog(state, {}, CRANKS);
  const cranks = [...log.cranks].slice(0, CRANKS).reverse();
  const sizes = useSizes(state);
  const { vats } = useVats();
  const names = new Map((vats ?? []).map((v) => [v.vatId, v.name]));
  const vatOf = (c: PanelCrank) =>
    c.vatId ? `${c.vatName ?? names.get(c.vatId) ?? c.vatId}` : 'kernel';
  const what = (c: PanelCrank) =>
    `crank ${c.crank} · ${c.kind}${c.method ? ` ${c.method}` : ''} · ${vatOf(c)} · ${shownOutcome(c)}`;

  return (
    <View name="metrics" title="Metrics" busy={log.busy}>
      <ErrorLine error={log.error ?? state.cranksError} testid="metrics-error" />
      <p class="muted">
        The last {cranks.length} cranks of the crank log
        {cranks.length > 0
          ? ` (${cranks[0]?.crank} to ${cranks[cranks.length - 1]?.crank})`
          : ''}
        .
      </p>
      <Chart
        title="Crank latency"
        testid="chart-latency"
        xLabel="crank"
        yLabel="duration (ms)"
        series={[
          {
            name: 'duration',
            cls: 'a',
            points: cranks.map((c) => ({
              x: c.crank,
              y: c.durationMs,
              title: `${what(c)}: ${formatMs(c.durationMs)} ms`,
            })),
          },
        ]}
        formatX={(x) => `${Math.round(x)}`}
        formatY={(y) => formatMs(y)}
        summary={(y) => `${formatMs(y)} ms`}
      />
      <Chart
        title="Delta bytes per crank"
        testid="chart-delta-bytes"
        xLabel="crank"
        yLabel="vatstore delta (bytes)"
        series={[
          {
            name: 'delta',
            cls: 'a',
            points: cranks.map((c) => ({
              x: c.crank,
              y: c.deltaBytes,
              title: `${what(c)}: ${formatBytes(c.deltaBytes)} in ${c.deltaKeys} keys`,
            })),
          },
        ]}
        formatX={(x) => `${Math.round(x)}`}
        formatY={formatBytes}
        summary={formatBytes}
      />
      <Timeline cranks={cranks} vatOf={vatOf} what={what} />
      <ErrorLine error={sizes.error} testid="metrics-sizes-error" />
      <Chart
        title="Store and log size over time"
        testid="chart-sizes"
        xLabel="time (local)"
        yLabel="size (bytes)"
        series={[
          {
            name: 'store',
            cls: 'a',
            points: [
              ...cranks
                .filter((c) => c.storeBytes !== undefined && c.at !== undefined)
                .map((c) => ({
                  x: c.at as number,
                  y: c.storeBytes as number,
                  title: `store after crank ${c.crank}, ${formatTime(c.at as number)}: ${formatBytes(c.storeBytes as number)}`,
                })),
              ...sizes.store,
            ].sort((a, b) => a.x - b.x),
          },
          {
            name: 'log (retained records, added up)',
            cls: 'b',
            points: sizes.log,
          },
        ]}
        formatX={(x) => formatTime(x)}
        formatY={formatBytes}
        summary={formatBytes}
        fromZero={false}
      />
    </View>
  );
}

/**
 * The log's size over time (the retained commits of `history`, their bytes added up)
 * and the store's now (status), reloaded when the connection comes back and every
 * 200 cranks.
 */
function useSizes(state: FeedState): {
  log: Point[];
  store: Point[];
  error: string | null;
} {
  const [log, setLog] = useState<Point[]>([]);
  const [error, setError] = useState<string | null>(null);
  const bucket = Math.floor((state.status?.crank ?? 0) / 200);
  useEffect(() => {
    if (state.connection !== 'live') return;
    let live = true;
    askKernel<HistoryPage>('history', { limit: 1000 }).then(
      (page) => {
        if (!live) return;
        let total = 0;
        const points: Point[] = [];
        for (const c of [...page.commits].reverse()) {
          total += c.bytes;
          if (c.time === undefined) continue;
          points.push({
            x: c.time,
            y: total,
            title: `log after crank ${c.lastCrank}, ${formatTime(c.time)}: ${formatBytes(total)}`,
          });
        }
        setLog(points);
        setError(null);
      },
      (err: unknown) => {
        if (live) setError(errorText(err));
      },
    );
    return () => {
      live = false;
    };
  }, [state.connection, bucket]);
  const status = state.status;
  const store: Point[] = status
    ? [
        {
          x: Date.now(),
          y: status.storeBytes,
          title: `store now: ${formatBytes(status.storeBytes)}`,
        },
      ]
    : [];
  return { log, store, error };
}

/** The element's width in CSS pixels, kept current. */
function useWidth(): [(el: HTMLElement | null) => void, number] {
  const [width, setWidth] = useState(0);
  const observer = useRef<ResizeObserver | null>(null);
  const ref = (el: HTMLElement | null) => {
    observer.current?.disconnect();
    observer.current = null;
    if (!el) return;
    setWidth(el.clientWidth);
    observer.current = new ResizeObserver(() => setWidth(el.clientWidth));
    observer.current.observe(el);
  };
  useEffect(() => () => observer.current?.disconnect(), []);
  return [ref, width];
}

/** Three round tick values from `lo` to `hi`. */
function ticks(lo: number, hi: number): number[] {
  return [lo, (lo + hi) / 2, hi];
}

function Chart({
  title,
  testid,
  xLabel,
  yLabel,
  series,
  formatX,
  formatY,
  summary,
  fromZero = true,
}: {
  title: string;
  testid: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  formatX: (x: number) => string;
  formatY: (y: number) => string;
  summary: (y: number) => string;
  /** The y axis starts at 0; if not, at a little under the lowest point. */
  fromZero?: boolean;
}) {
  const [ref, measured] = useWidth();
  const width = Math.max(measured, 240);
  const all = series.flatMap((s) => s.points);
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (const p of all) {
    minX = Math.min(minX, p.x);
    maxX = Math.max(maxX, p.x);
    minY = Math.min(minY, p.y);
    maxY = Math.max(maxY, p.y);
  }
  const margin = Math.max((maxY - (fromZero ? 0 : minY)) * 0.1, Math.abs(maxY) * 0.01, 1);
  const top = all.length > 0 ? maxY + margin : 1;
  const bottom = fromZero || all.length === 0 ? 0 : Math.max(0, minY - margin);
  const spanX = maxX > minX ? maxX - minX : 1;
  const px = (x: number) => LEFT + ((x - minX) / spanX) * (width - LEFT - RIGHT);
  const py = (y: number) =>
    TOP + (1 - (y - bottom) / (top - bottom)) * (HEIGHT - TOP - BOTTOM);
  const main = series[0]?.points ?? [];
  const last = main[main.length - 1];
  const mean = main.reduce((sum, p) => sum + p.y, 0) / Math.max(main.length, 1);
  const maxMain = main.reduce((m, p) => Math.max(m, p.y), -Infinity);

  return (
    <figure class="chart" data-testid={testid} data-points={all.length} ref={ref}>
      <figcaption>
        <strong>{title}</strong>
        {last ? (
          <span class="muted">
            {' '}
            last {summary(last.y)} · max {summary(maxMain)} · mean {summary(mean)}
          </span>
        ) : (
          <span class="muted"> no data yet</span>
        )}
        {series.length > 1 ? (
          <span class="legend">
            {series.map((s) => (
              <span key={s.name} class={`key ${s.cls}`}>
                {s.name}
              </span>
            ))}
          </span>
        ) : null}
      </figcaption>
      <svg
        width={width}
        height={HEIGHT}
        viewBox={`0 0 ${width} ${HEIGHT}`}
        role="img"
        aria-label={`${title}: ${yLabel} by ${xLabel}`}
      >
        {ticks(bottom, top).map((t) => (
          <g key={t} class="tick">
            <line x1={LEFT} x2={width - RIGHT} y1={py(t)} y2={py(t)} />
            <text x={LEFT - 6} y={py(t)} text-anchor="end" dominant-baseline="middle">
              {formatY(t)}
            </text>
          </g>
        ))}
        <text
          class="axis-title"
          transform={`translate(14 ${TOP + (HEIGHT - TOP - BOTTOM) / 2}) rotate(-90)`}
          text-anchor="middle"
        >
          {yLabel}
        </text>
        {all.length > 0 ? (
          <>
            <text class="axis" x={LEFT} y={HEIGHT - 22} text-anchor="start">
              {formatX(minX)}
            </text>
            <text class="axis" x={width - RIGHT} y={HEIGHT - 22} text-anchor="end">
              {formatX(maxX)}
            </text>
          </>
        ) : null}
        <text
          class="axis-title"
          x={LEFT + (width - LEFT - RIGHT) / 2}
          y={HEIGHT - 6}
          text-anchor="middle"
        >
          {xLabel}
        </text>
        {series.map((s) => (
          <g key={s.name} class={`series ${s.cls}`}>
            {s.points.length > 1 ? (
              <polyline
                class="line"
                points={s.points
                  .map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`)
                  .join(' ')}
              />
            ) : null}
            {s.points.map((p, i) => (
              <circle
                key={i}
                class="point"
                data-testid="chart-point"
                cx={px(p.x)}
                cy={py(p.y)}
                r={3}
              >
                <title>{p.title}</title>
              </circle>
            ))}
          </g>
        ))}
      </svg>
    </figure>
  );
}

const LANE = 22;

/** Each vat's cranks on one time axis: a bar from when a crank began to when it ended. */
function Timeline({
  cranks,
  vatOf,
  what,
}: {
  cranks: PanelCrank[];
  vatOf: (c: PanelCrank) => string;
  what: (c: PanelCrank) => string;
}) {
  const [ref, measured] = useWidth();
  const width = Math.max(measured, 240);
  const timed = cranks.filter((c) => c.at !== undefined);
  const lanes = [...new Set(timed.map(vatOf))].sort();
  const height = TOP + Math.max(lanes.length, 1) * LANE + BOTTOM;
  let minX = Infinity;
  let maxX = -Infinity;
  for (const c of timed) {
    minX = Math.min(minX, (c.at as number) - c.durationMs);
    maxX = Math.max(maxX, c.at as number);
  }
  const spanX = maxX > minX ? maxX - minX : 1;
  const px = (x: number) => LEFT + ((x - minX) / spanX) * (width - LEFT - RIGHT);
  return (
    <figure
      class="chart"
      data-testid="chart-timeline"
      data-points={timed.length}
      ref={ref}
    >
      <figcaption>
        <strong>Crank timeline per vat</strong>
        <span class="muted">
          {timed.length > 0
            ? ` ${timed.length} cranks over ${formatMs(spanX / 1000)} s`
            : ' no data yet'}
        </span>
      </figcaption>
      <svg
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label="Crank timeline: each vat's cranks by time"
      >
        {lanes.map((lane, i) => (
          <g key={lane} class="tick">
            <line
              x1={LEFT}
              x2={width - RIGHT}
              y1={TOP + (i + 1) * LANE}
              y2={TOP + (i + 1) * LANE}
            />
            <text
              x={LEFT - 6}
              y={TOP + i * LANE + LANE / 2}
              text-anchor="end"
              dominant-baseline="middle"
            >
              {lane}
            </text>
          </g>
        ))}
        {timed.map((c) => {
          const end = c.at as number;
          const x = px(end - c.durationMs);
          const lane = lanes.indexOf(vatOf(c));
          return (
            <rect
              key={c.crank}
              class={`bar outcome-${shownOutcome(c)}`}
              data-testid="chart-point"
              x={x}
              y={TOP + lane * LANE + 4}
              width={Math.max(px(end) - x, 2)}
              height={LANE - 8}
            >
              <title>
                {what(c)}: {formatTime(end - c.durationMs, true)} for{' '}
                {formatMs(c.durationMs)} ms
              </title>
            </rect>
          );
        })}
        {timed.length > 0 ? (
          <>
            <text class="axis" x={LEFT} y={height - 22} text-anchor="start">
              {formatTime(minX, true)}
            </text>
            <text class="axis" x={width - RIGHT} y={height - 22} text-anchor="end">
              {formatTime(maxX, true)}
            </text>
          </>
        ) : null}
        <text
          class="axis-title"
          x={LEFT + (width - LEFT - RIGHT) / 2}
          y={height - 6}
          text-anchor="middle"
        >
          time (local; a bar is a crank, its width its duration)
        </text>
      </svg>
    </figure>
  );
}
