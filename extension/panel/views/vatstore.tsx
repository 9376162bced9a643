/**
 * Vatstore: one vat's keys in key order, 100 a page (readVatstore), filtered by a key
 * prefix. "Next" asks for the keys after the page's last key; "Previous" goes back
 * through a stack of those cursors. Never more than a page is loaded.
 *
 * data-testids: vatstore-vat (select), vatstore-prefix, vatstore-search,
 * vatstore-table, vatstore-row (data-key), vatstore-prev, vatstore-next,
 * vatstore-page, vatstore-error.
 */
import { useEffect, useState } from 'preact/hooks';
import { askKernel } from '../../surface-client/index.ts';
import { useAction, useVats } from '../kernel.ts';
import { ErrorLine, View, json } from '../ui.tsx';

const PAGE = 100;

interface Entry {
  key: string;
  value: string;
  decoded?: unknown;
}

interface Page {
  entries: Entry[];
  more: boolean;
}

export function Vatstore() {
  const { vats, error: vatsError } = useVats();
  const [vatId, setVatId] = useState('');
  const [prefixInput, setPrefixInput] = useState('');
  const [prefix, setPrefix] = useState('');
  /** cursors[i] is the `after` of page i (undefined: from the start). */
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  /** Bumped by Search, so searching again reloads the page. */
  const [nonce, setNonce] = useState(0);
  const load = useAction<Page>({ latest: true });
  const { run } = load;

  // The first live vat, once the list is in.
  useEffect(() => {
    if (vatId === '' && vats && vats.length > 0) {
      setVatId((vats.find((v) => v.state === 'running') ?? vats[0])?.vatId ?? '');
    }
  }, [vats, vatId]);

  const after = cursors[cursors.length - 1];
  useEffect(() => {
    if (vatId === '') return;
    void run(() =>
      askKernel<Page>('readVatstore', {
        vatId,
        limit: PAGE,
        ...(prefix === '' ? {} : { prefix }),
        ...(after === undefined ? {} : { after }),
      }),
    );
  }, [run, vatId, prefix, after, nonce]);

  const page = load.result;
  const last = page?.entries[page.entries.length - 1];
  const search = (event: Event) => {
    event.preventDefault();
    setPrefix(prefixInput);
    setCursors([undefined]);
    setNonce((n) => n + 1);
  };

  return (
    <View name="vatstore" title="Vatstore" busy={load.busy}>
      <form class="toolbar" onSubmit={search}>
        <label>
          Vat{' '}
          <select
            data-testid="vatstore-vat"
            value={vatId}
            onChange={(e) => {
              setVatId(e.currentTarget.value);
              setCursors([undefined]);
            }}
          >
            {(vats ?? []).map((vat) => (
              <option key={vat.vatId} value={vat.vatId}>
                {vat.name} ({vat.vatId}, {vat.vatstore.keys} keys
                {vat.state === 'running' ? '' : `, ${vat.state}`})
              </option>
            ))}
          </select>
        </label>
        <input
          type="search"
          placeholder="key prefix"
          data-testid="vatstore-prefix"
          value={prefixInput}
          onInput={(e) => setPrefixInput(e.currentTarget.value)}
        />
        <button type="submit" data-testid="vatstore-search">
          Search
        </button>
      </form>
      <ErrorLine error={vatsError ?? load.error} testid="vatstore-error" />
      <div class="pager">
        <button
          type="button"
          data-testid="vatstore-prev"
          disabled={load.busy || cursors.length <= 1}
          onClick={() => setCursors((c) => c.slice(0, -1))}
        >
          ← Previous
        </button>
        <span data-testid="vatstore-page">
          page {cursors.length}
          {page
            ? `, ${page.entries.length} ${page.entries.length === 1 ? 'key' : 'keys'}`
            : ''}
        </span>
        <button
          type="button"
          data-testid="vatstore-next"
          disabled={load.busy || !page?.more || last === undefined}
          onClick={() => last && setCursors((c) => [...c, last.key])}
        >
          Next →
        </button>
      </div>
      <table data-testid="vatstore-table" class="vatstore">
        <thead>
          <tr>
            <th>Key</th>
            <th>Value</th>
            <th>Decoded</th>
          </tr>
        </thead>
        <tbody>
          {(page?.entries ?? []).map((entry) => (
            <tr key={entry.key} data-testid="vatstore-row" data-key={entry.key}>
              <td class="mono wrap">{entry.key}</td>
              <td>
                <pre class="cell">{entry.value}</pre>
              </td>
              <td>
                {'decoded' in entry ? (
                  <pre class="cell">{json(entry.decoded)}</pre>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {page && page.entries.length === 0 ? (
        <p class="muted">
          No keys{prefix ? ` starting with ${JSON.stringify(prefix)}` : ''}.
        </p>
      ) : null}
    </View>
  );
}
