/**
 * What vats logged (vatPowers.logger; SwingSet's testLog as level `test`), newest last:
 * a plain list. data-testids: vat-logs, vat-log-line.
 */
import type { FeedState } from '../kernel.ts';
import { View, formatTime } from '../ui.tsx';

export function Logs({ state }: { state: FeedState }) {
  const lines = state.vatLogs;
  return (
    <View name="logs" title="Vat logs">
      {lines.length === 0 ? (
        <p class="empty">No vat has logged since the panel connected.</p>
      ) : (
        <ol class="vat-logs" data-testid="vat-logs">
          {lines.map((line, i) => (
            <li key={i} class={`vat-log ${line.level}`} data-testid="vat-log-line">
              <time>{formatTime(line.at, true)}</time> <b>{line.vatName}</b>{' '}
              <span class="level">{line.level}</span>
              {line.tags.length > 0 ? (
                <span class="tags"> [{line.tags.join(', ')}]</span>
              ) : null}
              : <span class="text">{line.text}</span>
            </li>
          ))}
        </ol>
      )}
    </View>
  );
}
