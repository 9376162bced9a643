/**
 * Metrics: three line charts over the recent cranks (recentCranks, then live crank
 * events): crank latency, delta bytes per crank, and the store's size over time. Small
 * hand-written SVG.
 *
 * data-testids: chart-latency, chart-delta-bytes, chart-store-bytes (each a <figure>
 * with data-points = the number of points; its <svg> holds one polyline), metrics-error.
 */
import { type FeedState } from '../kernel.ts';
import { ErrorLine, View, formatBytes, formatMs, formatTime } from '../ui.tsx';

interface Point {
  x: number;
  y: number;
}

export function Metrics({ state }: { state: FeedState }) {
  const { cranks } = state;
  return (
    <View name="metrics" title="Metrics">
      <ErrorLine error={state.cranksError} testid="metrics-error" />
      <p class="muted">
        The last {cranks.length} cranks
        {cranks.length > 0
          ? ` (${cranks[0]?.crank} to ${cranks[cranks.length - 1]?.crank})`
          : ''}
        .
      </p>
      <LineChart
        title="Crank latency"
        testid="chart-latency"
        points={cranks.map((c) => ({ x: c.crank, y: c.durationMs }))}
        formatX={(x) => `#${x}`}
        formatY={(y) => `${formatMs(y)} ms`}
      />
      <LineChart
        title="Delta bytes per crank"
        testid="chart-delta-bytes"
        points={cranks.map((c) => ({ x: c.crank, y: c.deltaBytes }))}
        formatX={(x) => `#${x}`}
        formatY={formatBytes}
      />
      <LineChart
        title="Store size over time"
        testid="chart-store-bytes"
        points={cranks.map((c) => ({ x: c.at, y: c.storeBytes }))}
        formatX={(x) => formatTime(x)}
        formatY={formatBytes}
        fromZero={false}
      />
    </View>
  );
}

const WIDTH = 640;
const HEIGHT = 180;
const LEFT = 70;
const RIGHT = 10;
const TOP = 10;
const BOTTOM = 24;

function LineChart({
  title,
  testid,
  points,
  formatX,
  formatY,
  fromZero = true,
}: {
  title: string;
  testid: string;
  points: Point[];
  formatX: (x: number) => string;
  formatY: (y: number) => string;
  /** The y axis starts at 0; if not, at a little under the lowest point. */
  fromZero?: boolean;
}) {
  const last = points[points.length - 1];
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  let sumY = 0;
  for (const p of points) {
    minX = Math.min(minX, p.x);
    maxX = Math.max(maxX, p.x);
    minY = Math.min(minY, p.y);
    maxY = Math.max(maxY, p.y);
    sumY += p.y;
  }
  // Ends a little above the highest point (and starts a little under the lowest).
  const margin = Math.max((maxY - (fromZero ? 0 : minY)) * 0.1, Math.abs(maxY) * 0.01, 1);
  const top = points.length > 0 ? maxY + margin : 1;
  const bottom = fromZero || points.length === 0 ? 0 : Math.max(0, minY - margin);
  const spanX = maxX > minX ? maxX - minX : 1;
  const px = (x: number) => LEFT + ((x - minX) / spanX) * (WIDTH - LEFT - RIGHT);
  const py = (y: number) =>
    TOP + (1 - (y - bottom) / (top - bottom)) * (HEIGHT - TOP - BOTTOM);
  const line = points.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ');
  const ticks = [bottom, (bottom + top) / 2, top];

  return (
    <figure class="chart" data-testid={testid} data-points={points.length}>
      <figcaption>
        <strong>{title}</strong>
        {last ? (
          <span class="muted">
            {' '}
            last {formatY(last.y)} · max {formatY(maxY)} · mean{' '}
            {formatY(sumY / points.length)}
          </span>
        ) : (
          <span class="muted"> no data yet</span>
        )}
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={title}>
        {ticks.map((t) => (
          <g key={t} class="tick">
            <line x1={LEFT} x2={WIDTH - RIGHT} y1={py(t)} y2={py(t)} />
            <text x={LEFT - 6} y={py(t)} text-anchor="end" dominant-baseline="middle">
              {formatY(t)}
            </text>
          </g>
        ))}
        {points.length > 0 ? (
          <>
            <text class="axis" x={LEFT} y={HEIGHT - 6} text-anchor="start">
              {formatX(minX)}
            </text>
            <text class="axis" x={WIDTH - RIGHT} y={HEIGHT - 6} text-anchor="end">
              {formatX(maxX)}
            </text>
            <polyline class="line" points={line} />
          </>
        ) : null}
        {last ? (
          <circle class="last" cx={px(last.x)} cy={py(last.y)} r={3}>
            <title>
              {formatX(last.x)}: {formatY(last.y)}
            </title>
          </circle>
        ) : null}
      </svg>
    </figure>
  );
}
