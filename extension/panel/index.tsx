/**
 * The Cask panel (DevTools → Cask, or chrome-extension://ID/panel.html as a tab): one
 * view per tab, each in views/. It talks to the kernel only through the control surface
 * (extension/surface-client): requests, and one live event stream shared by the views
 * (kernel.ts).
 *
 * Docked first: the tabs that do not fit fold into a "More ▾" menu (never a second row),
 * everything is reachable by keyboard (tabs and menu items are buttons; arrows move in
 * the menu, Escape closes it), and the theme follows DevTools' (light or dark) when the
 * panel runs in DevTools, the system's otherwise. The header says when the run queue
 * is paused.
 *
 * data-testids: tab-<view> (one per view below; a folded one stays in the strip,
 * clipped, and is in the menu as more-<view>), tabs-more (the menu's button),
 * tabs-menu, header-paused, connection, reconnect. The location hash names the open
 * view (panel.html#cranks opens the Cranks view; #send?target=ko3&method=m a prefilled
 * Send).
 */
import { render } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { KernelFeed, useFeed, type FeedState } from './kernel.ts';
import { sends } from './sends.ts';
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

const VIEW_NAMES = Object.keys(VIEWS) as ViewName[];

/** `#cranks`, or `#send?target=…`: the view is what comes before any `?` (./links.ts). */
function viewFromHash(): ViewName {
  const name = location.hash.slice(1).split('?')[0] ?? '';
  return name in VIEWS ? (name as ViewName) : 'overview';
}

/**
 * The theme, as `data-theme` on the root (panel.css has one dark palette, keyed by it):
 * DevTools' when the panel runs in DevTools, else the system's, followed as it changes.
 */
function followTheme(): () => void {
  const root = document.documentElement;
  const devtools = (
    globalThis as { chrome?: { devtools?: { panels?: { themeName?: string } } } }
  ).chrome?.devtools;
  const theme = devtools?.panels?.themeName;
  if (theme) {
    root.dataset.theme = theme === 'dark' ? 'dark' : 'light';
    return () => undefined;
  }
  const system = matchMedia('(prefers-color-scheme: dark)');
  const apply = () => {
    root.dataset.theme = system.matches ? 'dark' : 'light';
  };
  apply();
  system.addEventListener('change', apply);
  return () => system.removeEventListener('change', apply);
}

function App() {
  const feed = useMemo(() => new KernelFeed(), []);
  useEffect(() => {
    feed.connect();
    return () => feed.dispose();
  }, [feed]);
  const state = useFeed(feed);
  useEffect(() => sends.attach(feed), [feed]);
  useEffect(followTheme, []);
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
  const paused = state.status?.paused === true;

  return (
    <div class="panel">
      <header>
        <h1>Cask</h1>
        <Tabs view={view} open={open} />
        {paused ? (
          <span
            class="paused-badge"
            data-testid="header-paused"
            title="The run queue is paused: nothing runs until it is resumed (Overview)"
          >
            queue paused
          </span>
        ) : null}
        <ConnectionBadge state={state} reconnect={() => feed.connect()} />
      </header>
      <main>
        {view === 'overview' && <Overview feed={feed} state={state} />}
        {view === 'vats' && <Vats feed={feed} />}
        {view === 'vatstore' && <Vatstore />}
        {view === 'cranks' && <Cranks state={state} />}
        {view === 'logs' && <Logs state={state} />}
        {view === 'send' && <Send feed={feed} paused={paused} />}
        {view === 'sql' && <Sql />}
        {view === 'metrics' && <Metrics state={state} />}
        {view === 'history' && <History feed={feed} />}
        {view === 'state' && <State feed={feed} />}
        {view === 'objects' && <Objects feed={feed} />}
      </main>
    </div>
  );
}

/** Room left for the "More ▾" button before it is first measured. */
const MORE_WIDTH = 72;

/**
 * The tab strip: as many tabs as fit, in one row; the rest fold into the "More ▾" menu.
 * A folded tab stays in the strip, clipped and out of the tab order, so its testid
 * still names a button that opens its view.
 */
function Tabs({ view, open }: { view: ViewName; open: (name: ViewName) => void }) {
  const box = useRef<HTMLDivElement>(null);
  const nav = useRef<HTMLElement>(null);
  const more = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const [fit, setFit] = useState<{ count: number; width: number | null }>({
    count: VIEW_NAMES.length,
    width: null,
  });
  const [menuOpen, setMenuOpen] = useState(false);

  useLayoutEffect(() => {
    const measure = () => {
      const room = box.current?.clientWidth ?? 0;
      const widths = [...(nav.current?.querySelectorAll<HTMLElement>('.tab') ?? [])].map(
        (tab) => tab.offsetWidth,
      );
      const total = widths.reduce((a, b) => a + b, 0);
      if (total <= room) {
        setFit({ count: widths.length, width: null });
        return;
      }
      const moreWidth = more.current?.offsetWidth || MORE_WIDTH;
      let used = 0;
      let count = 0;
      for (const width of widths) {
        if (used + width + moreWidth > room) break;
        used += width;
        count += 1;
      }
      setFit({ count, width: used });
    };
    measure();
    const observer = new ResizeObserver(measure);
    if (box.current) observer.observe(box.current);
    return () => observer.disconnect();
  }, []);
  // A click on a folded tab (a test's) scrolls the strip: put it back.
  useEffect(() => {
    if (nav.current) nav.current.scrollLeft = 0;
  }, [view]);
  // Focus moves into the menu as it is drawn (a layout effect, before the page can see
  // it): a key pressed the moment it shows goes to the menu, never to a stale button.
  useLayoutEffect(() => {
    if (menuOpen) menu.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
  }, [menuOpen]);
  useEffect(() => {
    if (!menuOpen) return undefined;
    const away = (event: MouseEvent) => {
      const target = event.target as Node;
      if (!menu.current?.contains(target) && !more.current?.contains(target)) {
        setMenuOpen(false);
      }
    };
    addEventListener('mousedown', away);
    return () => removeEventListener('mousedown', away);
  }, [menuOpen]);

  const folded = VIEW_NAMES.slice(fit.count);
  const close = () => {
    setMenuOpen(false);
    more.current?.focus();
  };
  const onMenuKey = (event: KeyboardEvent) => {
    const items = [
      ...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? []),
    ];
    const at = items.indexOf(document.activeElement as HTMLElement);
    if (event.key === 'Escape') {
      event.preventDefault();
      close();
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      items[(at + step + items.length) % items.length]?.focus();
    } else if (event.key === 'Home' || event.key === 'End') {
      event.preventDefault();
      items[event.key === 'Home' ? 0 : items.length - 1]?.focus();
    } else if (event.key === 'Tab') {
      setMenuOpen(false);
    }
  };

  return (
    <div class="tabs" ref={box}>
      <nav
        ref={nav}
        aria-label="Views"
        style={fit.width === null ? undefined : { width: `${fit.width}px` }}
      >
        {VIEW_NAMES.map((name, i) => {
          const hidden = i >= fit.count;
          return (
            <button
              type="button"
              key={name}
              class={name === view ? 'tab active' : 'tab'}
              aria-current={name === view ? 'page' : undefined}
              aria-hidden={hidden ? 'true' : undefined}
              tabIndex={hidden ? -1 : undefined}
              data-testid={`tab-${name}`}
              onClick={() => open(name)}
            >
              {VIEWS[name]}
            </button>
          );
        })}
      </nav>
      {folded.length > 0 ? (
        <div class="more">
          <button
            type="button"
            ref={more}
            class={folded.includes(view) ? 'tab more-button active' : 'tab more-button'}
            aria-haspopup="menu"
            aria-expanded={menuOpen ? 'true' : 'false'}
            data-testid="tabs-more"
            title={
              folded.includes(view) ? `More views (open: ${VIEWS[view]})` : 'More views'
            }
            onClick={() => setMenuOpen((o) => !o)}
            onKeyDown={(event) => {
              if (event.key === 'ArrowDown') {
                event.preventDefault();
                setMenuOpen(true);
              } else if (event.key === 'Escape') close();
            }}
          >
            More ▾
          </button>
          {menuOpen ? (
            <div
              class="menu"
              role="menu"
              ref={menu}
              data-testid="tabs-menu"
              onKeyDown={onMenuKey}
            >
              {folded.map((name) => (
                <button
                  type="button"
                  role="menuitem"
                  key={name}
                  class={name === view ? 'active' : undefined}
                  aria-current={name === view ? 'page' : undefined}
                  data-testid={`more-${name}`}
                  onClick={() => {
                    open(name);
                    close();
                  }}
                >
                  {VIEWS[name]}
                </button>
              ))}
            </div>
          ) : null}
        </div>
      ) : null}
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
