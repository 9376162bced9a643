/**
 * The Cask panel (DevTools → Cask, or chrome-extension://ID/panel.html as a tab): one
 * view per tab, each in views/. It talks to the kernel only through the control surface
 * (extension/surface-client): requests, and one live event stream shared by the views
 * (kernel.ts).
 *
 * data-testids: tab-<view> (one per view below), connection, reconnect. The location
 * hash names the open view (panel.html#cranks opens the Cranks view).
 */
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { KernelFeed, useFeed, type FeedState } from './kernel.ts';
import { formatTime } from './ui.tsx';
import { Cranks } from './views/cranks.tsx';
import { History } from './views/history.tsx';
import { Logs } from './views/logs.tsx';
import { Metrics } from './views/metrics.tsx';
import { Objects } from './views/objects.tsx';
import { Overview } from './views/overview.tsx';
import { Send } from './views/send.tsx';
import { Sql } from './views/sql.tsx';
import { State } from './views/state.tsx';
import { Vats } from './views/vats.tsx';
import { Vatstore } from './views/vatstore.tsx';

const VIEWS = {
  overview: 'Overview',
  vats: 'Vats',
  vatstore: 'Vatstore',
  cranks: 'Cranks',
  logs: 'Logs',
  send: 'Send',
  sql: 'SQL',
  metrics: 'Metrics',
  history: 'History',
  state: 'State',
  objects: 'Objects',
} as const;

type ViewName = keyof typeof VIEWS;

function viewFromHash(): ViewName {
  // `#send?target=ko12`: the view, then its params (./links.ts).
  const name = location.hash.slice(1).split('?')[0] ?? '';
  return name in VIEWS ? (name as ViewName) : 'overview';
}

function App() {
  const feed = useMemo(() => new KernelFeed(), []);
  useEffect(() => {
    feed.connect();
    return () => feed.dispose();
  }, [feed]);
  const state = useFeed(feed);
  const [view, setView] = useState<ViewName>(viewFromHash);
  useEffect(() => {
    const onHash = () => setView(viewFromHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const open = (name: ViewName) => {
    history.replaceState(null, '', `#${name}`);
    setView(name);
  };

  return (
    <div class="panel">
      <header>
        <h1>Cask</h1>
        <nav>
          {(Object.keys(VIEWS) as ViewName[]).map((name) => (
            <button
              type="button"
              key={name}
              class={name === view ? 'tab active' : 'tab'}
              aria-current={name === view ? 'page' : undefined}
              data-testid={`tab-${name}`}
              onClick={() => open(name)}
            >
              {VIEWS[name]}
            </button>
          ))}
        </nav>
        <ConnectionBadge state={state} reconnect={() => feed.connect()} />
      </header>
      <main>
        {view === 'overview' && <Overview feed={feed} state={state} />}
        {view === 'vats' && <Vats feed={feed} />}
        {view === 'vatstore' && <Vatstore />}
        {view === 'cranks' && <Cranks state={state} />}
        {view === 'logs' && <Logs state={state} />}
        {view === 'send' && <Send />}
        {view === 'sql' && <Sql />}
        {view === 'metrics' && <Metrics state={state} />}
        {view === 'history' && <History feed={feed} />}
        {view === 'state' && <State feed={feed} />}
        {view === 'objects' && <Objects feed={feed} />}
      </main>
    </div>
  );
}

function ConnectionBadge({
  state,
  reconnect,
}: {
  state: FeedState;
  reconnect: () => void;
}) {
  const { connection, connectionError, reconnectAt } = state;
  const title =
    connection === 'disconnected'
      ? `${connectionError ?? 'disconnected'}${reconnectAt ? `; retrying at ${formatTime(reconnectAt)}` : ''}`
      : connection === 'live'
        ? 'live: status and cranks from the kernel event stream'
        : 'connecting to the kernel';
  return (
    <div class="connection">
      <span class={`dot ${connection}`} data-testid="connection" title={title}>
        {connection}
      </span>
      {connection === 'disconnected' ? (
        <button type="button" data-testid="reconnect" onClick={reconnect}>
          Reconnect
        </button>
      ) : null}
    </div>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
