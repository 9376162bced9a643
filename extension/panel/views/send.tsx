/**
 * Send: a message to a vat's root object (chosen from the live vats) or to any kref,
 * with JSON args (`{ "$kref": "ko3" }` for references); shows the settled result. Sends
 * live in the panel's store (../sends.ts): a pending one and its answer stay across tab
 * switches, panel reloads and service-worker stops; while the run queue is paused a
 * pending send says so. The method field suggests the target's methods; the history
 * re-sends or edits an earlier send. `#send?target=KREF&method=NAME` opens it prefilled.
 *
 * data-testids: send-target-kind (select: vat | kref), send-vat (select of vat names),
 * send-kref, send-method, send-method-suggestion (one per known method), send-args
 * (JSON array), send-submit, send-pending (data-paused, data-kpid once queued), send-resume, send-result
 * (data-status: fulfilled | rejected), send-error (bad args, or the request refused),
 * send-history, send-history-row (data-state), send-history-resend, send-history-edit,
 * send-history-clear.
 */
import { useEffect, useState } from 'preact/hooks';
import { askKernel } from '../../surface-client/index.ts';
import { errorText, useVats, type KernelFeed } from '../kernel.ts';
import { targetLabel, useSends, type SendEntry, type SendTarget } from '../sends.ts';
import { ErrorLine, Json, View, formatTime, json } from '../ui.tsx';

/** `#send?target=ko12&method=increment`: a Send prefilled from elsewhere in the panel. */
export function sendFromHash(hash: string): { kref?: string; method?: string } | null {
  const match = /^#send\?(.*)$/u.exec(hash);
  if (!match) return null;
  const query = new URLSearchParams(match[1]);
  const target = query.get('target') ?? undefined;
  const method = query.get('method') ?? undefined;
  return {
    ...(target ? { kref: target } : {}),
    ...(method ? { method } : {}),
  };
}

function parseArgs(text: string): unknown[] | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.trim() === '' ? '[]' : text);
  } catch (err) {
    return `args: invalid JSON: ${(err as Error).message}`;
  }
  if (!Array.isArray(parsed)) return 'args: must be a JSON array, e.g. [] or [1, "two"]';
  return parsed;
}

export function Send({ feed, paused }: { feed: KernelFeed; paused: boolean }) {
  const { vats, error: vatsError } = useVats();
  const store = useSends();
  const { kind, vat, kref, method, args } = store.draft;
  const [localError, setLocalError] = useState<string | null>(null);
  const [resumeError, setResumeError] = useState<string | null>(null);
  const live = (vats ?? []).filter((v) => v.state === 'running' && v.rootKref);
  const chosen = live.find((v) => v.name === vat) ?? live[0];
  const vatName = chosen?.name ?? '';
  const targetKref = kind === 'vat' ? (chosen?.rootKref ?? '') : kref.trim();
  const methods = store.methodsOf(targetKref);

  useEffect(() => {
    const fromHash = () => {
      const prefill = sendFromHash(location.hash);
      if (!prefill) return;
      store.setDraft({
        ...(prefill.kref ? { kind: 'kref' as const, kref: prefill.kref } : {}),
        ...(prefill.method ? { method: prefill.method } : {}),
      });
    };
    fromHash();
    addEventListener('hashchange', fromHash);
    return () => removeEventListener('hashchange', fromHash);
  }, [store]);
  // Vats may load after the feed: the answer to a send may be known already.
  useEffect(() => store.check(), [store, feed]);

  const sendNow = (target: SendTarget, name: string, text: string) => {
    const parsed = parseArgs(text);
    if (typeof parsed === 'string') {
      setLocalError(parsed);
      return;
    }
    setLocalError(null);
    void store.send(target, name, text, parsed);
  };
  const submit = (event: Event) => {
    event.preventDefault();
    const target = kind === 'vat' ? { vat: vatName } : { kref: kref.trim() };
    sendNow(target, method.trim(), args);
  };
  const resume = () => {
    setResumeError(null);
    askKernel('setPaused', { paused: false }).then(
      (status) => feed.patchStatus(status as never),
      (error: unknown) => setResumeError(errorText(error)),
    );
  };
  const edit = (entry: SendEntry) =>
    store.setDraft({
      ...('vat' in entry.target
        ? { kind: 'vat', vat: entry.target.vat }
        : { kind: 'kref', kref: entry.target.kref }),
      method: entry.method,
      args: entry.args,
    });

  const latest = store.entries[0];
  const sending = latest?.state === 'sending';
  const waiting = sending || latest?.state === 'queued';
  const ready =
    method.trim() !== '' && (kind === 'vat' ? vatName !== '' : kref.trim() !== '');
  return (
    <View name="send" title="Send a message" busy={waiting}>
      <ErrorLine error={vatsError} testid="send-vats-error" />
      <form class="form" onSubmit={submit}>
        <label>
          Target
          <span class="row">
            <select
              data-testid="send-target-kind"
              value={kind}
              onChange={(e) =>
                store.setDraft({ kind: e.currentTarget.value as 'vat' | 'kref' })
              }
            >
              <option value="vat">vat root</option>
              <option value="kref">kref</option>
            </select>
            {kind === 'vat' ? (
              <select
                data-testid="send-vat"
                value={vatName}
                onChange={(e) => store.setDraft({ vat: e.currentTarget.value })}
              >
                {live.map((v) => (
                  <option key={v.vatId} value={v.name}>
                    {v.name} ({v.vatId}, {v.rootKref})
                  </option>
                ))}
              </select>
            ) : (
              <input
                type="text"
                placeholder="ko12 or kp3"
                data-testid="send-kref"
                value={kref}
                onInput={(e) => store.setDraft({ kref: e.currentTarget.value })}
              />
            )}
          </span>
        </label>
        <label>
          Method
          <input
            type="text"
            placeholder="increment"
            data-testid="send-method"
            list="send-methods"
            autocomplete="off"
            value={method}
            onFocus={() => store.learnMethods(targetKref, paused)}
            onInput={(e) => store.setDraft({ method: e.currentTarget.value })}
          />
          <datalist id="send-methods">
            {methods.map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
        </label>
        {methods.length > 0 ? (
          <p class="row suggestions" data-testid="send-methods">
            <span class="muted">Methods of {targetKref}:</span>
            {methods.map((name) => (
              <button
                type="button"
                key={name}
                class={`chip${name === method.trim() ? ' active' : ''}`}
                data-testid="send-method-suggestion"
                onClick={() => store.setDraft({ method: name })}
              >
                {name}
              </button>
            ))}
          </p>
        ) : null}
        <label>
          Args (JSON array)
          <textarea
            rows={4}
            spellcheck={false}
            data-testid="send-args"
            value={args}
            onInput={(e) => store.setDraft({ args: e.currentTarget.value })}
          />
        </label>
        <div>
          <button type="submit" data-testid="send-submit" disabled={!ready || sending}>
            {sending ? 'Sending…' : 'Send'}
          </button>
        </div>
      </form>
      {localError !== null ? (
        <ErrorLine error={localError} testid="send-error" />
      ) : latest ? (
        <Outcome entry={latest} paused={paused} onResume={resume} />
      ) : null}
      <ErrorLine error={resumeError} testid="send-resume-error" />
      <SendHistory
        entries={store.entries}
        onResend={(entry) => sendNow(entry.target, entry.method, entry.args)}
        onEdit={edit}
        onClear={() => store.clear()}
        busy={sending}
      />
    </View>
  );
}

/** The latest send: waiting (and why), settled, or refused. */
function Outcome({
  entry,
  paused,
  onResume,
}: {
  entry: SendEntry;
  paused: boolean;
  onResume: () => void;
}) {
  const target = entry.kref ?? targetLabel(entry.target);
  if (entry.state === 'failed' || entry.state === 'lost') {
    return <ErrorLine error={entry.error ?? entry.state} testid="send-error" />;
  }
  if (entry.state === 'fulfilled' || entry.state === 'rejected') {
    return (
      <div
        class={`result ${entry.state}`}
        data-testid="send-result"
        data-status={entry.state}
      >
        <p>
          {target}: {entry.state}
        </p>
        <Json value={entry.value} />
      </div>
    );
  }
  return (
    <div
      class={`pending${paused ? ' paused' : ''}`}
      role="status"
      data-testid="send-pending"
      data-paused={paused ? 'true' : 'false'}
      data-kpid={entry.kpid}
    >
      {entry.state === 'sending' ? (
        <span>
          Sending {entry.method} to {target}…
        </span>
      ) : paused ? (
        <>
          <span>
            {entry.method} to {target} is queued ({entry.kpid}), but the run queue is
            paused: it runs, and its result comes, once the queue is resumed.
          </span>{' '}
          <button type="button" data-testid="send-resume" onClick={onResume}>
            Resume the run queue
          </button>
        </>
      ) : (
        <span>
          {entry.method} to {target} is queued ({entry.kpid}): waiting for the result…
        </span>
      )}
    </div>
  );
}

function SendHistory({
  entries,
  onResend,
  onEdit,
  onClear,
  busy,
}: {
  entries: readonly SendEntry[];
  onResend: (entry: SendEntry) => void;
  onEdit: (entry: SendEntry) => void;
  onClear: () => void;
  busy: boolean;
}) {
  if (entries.length === 0) return null;
  return (
    <>
      <h3>
        Sent{' '}
        <button
          type="button"
          class="link"
          data-testid="send-history-clear"
          onClick={onClear}
        >
          clear
        </button>
      </h3>
      {/* The actions first: narrow, the rest scrolls in the box, they stay in view. */}
      <div class="scroll table-box">
        <table data-testid="send-history">
          <thead>
            <tr>
              <th />
              <th>Time</th>
              <th>Target</th>
              <th>Method</th>
              <th>Args</th>
              <th>Outcome</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id} data-testid="send-history-row" data-state={entry.state}>
                <td class="actions">
                  <button
                    type="button"
                    data-testid="send-history-resend"
                    disabled={busy}
                    onClick={() => onResend(entry)}
                  >
                    Re-send
                  </button>
                  <button
                    type="button"
                    data-testid="send-history-edit"
                    onClick={() => onEdit(entry)}
                  >
                    Edit
                  </button>
                </td>
                <td class="mono">{formatTime(entry.sentAt)}</td>
                <td class="mono">{entry.kref ?? targetLabel(entry.target)}</td>
                <td class="mono">{entry.method}</td>
                <td class="mono wrap">{entry.args}</td>
                <td
                  class={`wrap ${entry.state === 'rejected' || entry.state === 'failed' || entry.state === 'lost' ? 'bad' : entry.state === 'fulfilled' ? 'ok' : 'muted'}`}
                >
                  {entry.state === 'fulfilled' || entry.state === 'rejected'
                    ? `${entry.state}: ${short(entry.value)}`
                    : entry.state === 'failed' || entry.state === 'lost'
                      ? (entry.error ?? entry.state)
                      : entry.state}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function short(value: unknown): string {
  const text = json(value).replace(/\s+/gu, ' ');
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}
