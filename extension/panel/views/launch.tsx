/**
 * Launch a cluster (in the Vats view): pasted or uploaded JSON, the bundles the extension
 * ships to pick from, and the kernel's answer. Text, result and error live at panel
 * level and in sessionStorage, so a tab switch (which unmounts the view) keeps them. A
 * JSON error shows the line it is on; the kernel's refusal of a misspelt key names it,
 * the keys expected there and the nearest ("did you mean").
 *
 * data-testids: launch-config (textarea), launch-file (file input), launch-submit,
 * launch-error, launch-error-line (data-line: the JSON error's line, 1-based),
 * launch-result, launch-bundles, launch-bundle (data-name; adds a vat of it).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { askKernel, type ShippedBundle } from '../../surface-client/index.ts';
import { errorText } from '../kernel.ts';
import { ErrorLine, Json } from '../ui.tsx';

interface LaunchState {
  config: string;
  busy: boolean;
  error: string | null;
  /** The JSON error's position in `config`, when the text is not JSON. */
  errorAt: { line: number; column: number } | null;
  result: unknown;
}

const STORAGE = 'cask:panel:launch';

/** The Launch form's state, kept for the panel's life (and a reload's). */
class LaunchStore {
  state: LaunchState = {
    config: '',
    busy: false,
    error: null,
    errorAt: null,
    result: null,
  };
  readonly #listeners = new Set<() => void>();

  constructor() {
    try {
      const saved = sessionStorage.getItem(STORAGE);
      if (saved !== null) {
        this.state = { ...this.state, ...(JSON.parse(saved) as Partial<LaunchState>) };
      }
    } catch {
      // Nothing kept, or unreadable: start empty.
    }
    this.state.busy = false;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  set(patch: Partial<LaunchState>): void {
    this.state = { ...this.state, ...patch };
    try {
      const { busy: _busy, ...kept } = this.state;
      sessionStorage.setItem(STORAGE, JSON.stringify(kept));
    } catch {
      // Storage off: kept in memory only.
    }
    for (const listener of this.#listeners) listener();
  }

  async launch(onDone: () => void): Promise<void> {
    if (this.state.busy) return;
    const text = this.state.config;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      const message = (err as Error).message;
      const at = jsonErrorAt(text, message);
      this.set({
        error: `invalid JSON: ${message}${at && !/line \d+/u.test(message) ? ` (line ${at.line}, column ${at.column})` : ''}`,
        errorAt: at,
        result: null,
      });
      return;
    }
    this.set({ busy: true, error: null, errorAt: null, result: null });
    try {
      const result = await askKernel('launchCluster', { config: parsed });
      this.set({ busy: false, result });
    } catch (error) {
      this.set({ busy: false, error: errorText(error) });
    } finally {
      onDone();
    }
  }
}

const launchStore = new LaunchStore();

/**
 * Where JSON.parse stopped: V8 says "at position N" (older) or "(line L column C)"
 * (newer); some errors say neither (then the end of the text, for "Unexpected end").
 */
export function jsonErrorAt(
  text: string,
  message: string,
): { line: number; column: number } | null {
  const lineColumn = /line (\d+) column (\d+)/u.exec(message);
  if (lineColumn) return { line: Number(lineColumn[1]), column: Number(lineColumn[2]) };
  const position = /position (\d+)/u.exec(message);
  const offset = position
    ? Number(position[1])
    : /end of JSON input/u.test(message)
      ? text.length
      : null;
  if (offset === null) return null;
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before[before.length - 1]?.length ?? 0) + 1 };
}

/** A config with one more vat of a shipped bundle (or a fresh config around it). */
function withBundle(text: string, bundle: ShippedBundle): string {
  type Config = { bootstrap?: unknown; vats?: Record<string, unknown> };
  let config: Config | null = null;
  try {
    const parsed: unknown = text.trim() === '' ? null : JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      config = parsed as Config;
    }
  } catch {
    config = null;
  }
  const base = bundle.name
    .replace(/[^A-Za-z0-9_-]/gu, '_')
    .replace(/^[^A-Za-z_]/u, '_$&');
  const vats = { ...(config?.vats ?? {}) };
  let name = base;
  for (let i = 2; name in vats; i += 1) name = `${base}${i}`;
  vats[name] = { bundleSpec: bundle.bundleSpec };
  return JSON.stringify(
    { ...(config ?? {}), bootstrap: config?.bootstrap ?? name, vats },
    null,
    2,
  );
}

export function Launch({ onLaunched }: { onLaunched: () => void }) {
  const [state, setState] = useState(launchStore.state);
  useEffect(() => {
    setState(launchStore.state);
    return launchStore.subscribe(() => setState(launchStore.state));
  }, []);
  const [bundles, setBundles] = useState<ShippedBundle[] | null>(null);
  const [bundlesError, setBundlesError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    askKernel<{ shipped: ShippedBundle[] }>('listBundles').then(
      ({ shipped }) => live && setBundles(shipped),
      (error: unknown) => live && setBundlesError(errorText(error)),
    );
    return () => {
      live = false;
    };
  }, []);
  const textarea = useRef<HTMLTextAreaElement>(null);

  const submit = (event: Event) => {
    event.preventDefault();
    void launchStore.launch(onLaunched);
  };
  const upload = async (event: Event) => {
    const input = event.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    try {
      launchStore.set({
        config: await file.text(),
        error: null,
        errorAt: null,
        result: null,
      });
    } catch (err) {
      launchStore.set({
        error: `could not read ${file.name}: ${(err as Error).message}`,
      });
    }
    input.value = '';
  };
  const showError = () => {
    const at = state.errorAt;
    const area = textarea.current;
    if (!at || !area) return;
    const lines = state.config.split('\n');
    const offset =
      lines.slice(0, at.line - 1).reduce((n, l) => n + l.length + 1, 0) + at.column - 1;
    area.focus();
    area.setSelectionRange(offset, Math.min(offset + 1, state.config.length));
  };

  return (
    <>
      <h3>Launch a cluster</h3>
      <form class="launch" onSubmit={submit}>
        <textarea
          ref={textarea}
          data-testid="launch-config"
          rows={10}
          spellcheck={false}
          placeholder='{ "bootstrap": "alice", "vats": { "alice": { "bundleSpec": "bundles/…" } } }'
          value={state.config}
          onInput={(e) => launchStore.set({ config: e.currentTarget.value })}
        />
        <div class="toolbar">
          <label>
            Or load a .json file:{' '}
            <input
              type="file"
              accept=".json,application/json"
              data-testid="launch-file"
              onChange={(e) => void upload(e)}
            />
          </label>
          <button
            type="submit"
            data-testid="launch-submit"
            disabled={state.busy || state.config.trim() === ''}
          >
            {state.busy ? 'Launching…' : 'Launch'}
          </button>
        </div>
        <ErrorLine error={state.error} testid="launch-error" />
        {state.error !== null && state.errorAt ? (
          <ErrorExcerpt text={state.config} at={state.errorAt} onShow={showError} />
        ) : null}
        {state.result !== null ? (
          <Json value={state.result} testid="launch-result" />
        ) : null}
      </form>
      <ErrorLine error={bundlesError} testid="launch-bundles-error" />
      {bundles && bundles.length > 0 ? (
        <div class="row" data-testid="launch-bundles">
          <span class="muted">Shipped bundles (adds a vat):</span>
          {bundles.map((bundle) => (
            <button
              type="button"
              class="chip"
              key={bundle.name}
              data-testid="launch-bundle"
              data-name={bundle.name}
              title={bundle.bundleSpec}
              onClick={() =>
                launchStore.set({ config: withBundle(launchStore.state.config, bundle) })
              }
            >
              {bundle.name}
            </button>
          ))}
        </div>
      ) : null}
    </>
  );
}

/** The lines around a JSON error, its own marked. */
function ErrorExcerpt({
  text,
  at,
  onShow,
}: {
  text: string;
  at: { line: number; column: number };
  onShow: () => void;
}) {
  const lines = text.split('\n');
  const first = Math.max(1, at.line - 2);
  const last = Math.min(lines.length, at.line + 1);
  return (
    <div class="json-excerpt">
      <pre>
        {lines.slice(first - 1, last).map((line, i) => {
          const n = first + i;
          return n === at.line ? (
            <div key={n} class="bad-line" data-testid="launch-error-line" data-line={n}>
              <span class="gutter">{n}</span>
              {line}
              {'\n'}
              <span class="gutter" />
              {' '.repeat(Math.max(0, at.column - 1))}^
            </div>
          ) : (
            <div key={n}>
              <span class="gutter">{n}</span>
              {line}
            </div>
          );
        })}
      </pre>
      <button type="button" class="link" onClick={onShow}>
        show it in the text
      </button>
    </div>
  );
}
