/**
 * SQL: a read-only query on the kernel's store (`query`); the kernel refuses writes and
 * the refusal is shown, and reports a statement that does not compile (`SELEC 1`) with
 * SQLite's own syntax error. Ctrl+Enter runs.
 *
 * data-testids: sql-input, sql-run, sql-result (table), sql-row, sql-count,
 * sql-truncated, sql-error.
 */
import { useState } from 'preact/hooks';
import { askKernel } from '../../surface-client/index.ts';
import { useAction } from '../kernel.ts';
import { ErrorLine, View } from '../ui.tsx';

interface QueryResult {
  columns: string[];
  rows: unknown[][];
  truncated: boolean;
}

export function Sql() {
  const [sql, setSql] = useState(
    "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
  );
  const query = useAction<QueryResult>();
  const run = () => {
    if (sql.trim() !== '') void query.run(() => askKernel<QueryResult>('query', { sql }));
  };
  const result = query.result;

  return (
    <View name="sql" title="SQL" busy={query.busy}>
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          run();
        }}
      >
        <textarea
          rows={5}
          spellcheck={false}
          data-testid="sql-input"
          value={sql}
          onInput={(e) => setSql(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              run();
            }
          }}
        />
        <div>
          <button
            type="submit"
            data-testid="sql-run"
            disabled={query.busy || sql.trim() === ''}
          >
            {query.busy ? 'Running…' : 'Run (Ctrl+Enter)'}
          </button>
        </div>
      </form>
      <ErrorLine error={query.error} testid="sql-error" />
      {result ? (
        <>
          <p class="muted" data-testid="sql-count">
            {result.rows.length} row{result.rows.length === 1 ? '' : 's'}
          </p>
          {result.truncated ? (
            <p class="warning" data-testid="sql-truncated">
              Truncated: the kernel sent only the first {result.rows.length} rows.
            </p>
          ) : null}
          <div class="scroll">
            <table data-testid="sql-result">
              <thead>
                <tr>
                  {result.columns.map((column, i) => (
                    <th key={i}>{column}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {result.rows.map((row, i) => (
                  <tr key={i} data-testid="sql-row">
                    {row.map((cell, j) => (
                      <td key={j} class={cell === null ? 'muted' : 'wrap'}>
                        <span class="cell">{cellText(cell)}</span>
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </View>
  );
}

function cellText(cell: unknown): string {
  if (cell === null) return 'NULL';
  if (typeof cell === 'string') return cell;
  if (typeof cell === 'number' || typeof cell === 'bigint' || typeof cell === 'boolean') {
    return String(cell);
  }
  return JSON.stringify(cell);
}
