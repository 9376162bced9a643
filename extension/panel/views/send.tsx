/**
 * Send: a message to a vat's root object (chosen from the live vats) or to any kref,
 * with JSON args (`{ "$kref": "ko3" }` for references); shows the settled result.
 * Opened as `#send?target=KREF&method=NAME`, it starts aimed at that kref.
 *
 * data-testids: send-target-kind (select: vat | kref), send-vat (select of vat names),
 * send-kref, send-method, send-args (JSON array), send-submit, send-result
 * (data-status: fulfilled | rejected), send-error (bad args, or the request refused).
 */
import { useState } from 'preact/hooks';
import { askKernel } from '../../surface-client/index.ts';
import { useAction, useVats } from '../kernel.ts';
import { hashParams } from '../links.ts';
import { ErrorLine, Json, View } from '../ui.tsx';

interface Sent {
  target: string;
  result: { status: 'fulfilled' | 'rejected'; value: unknown };
}

export function Send() {
  const { vats, error: vatsError } = useVats();
  // `#send?target=KREF&method=NAME` (../links.ts) fills the form in.
  const [linked] = useState(() => hashParams('send'));
  const [kind, setKind] = useState<'vat' | 'kref'>(
    linked?.get('target') ? 'kref' : 'vat',
  );
  const [vat, setVat] = useState('');
  const [kref, setKref] = useState(linked?.get('target') ?? '');
  const [method, setMethod] = useState(linked?.get('method') ?? '');
  const [args, setArgs] = useState('[]');
  const send = useAction<Sent>();
  const live = (vats ?? []).filter((v) => v.state === 'running' && v.rootKref);
  const vatName = vat || live[0]?.name || '';

  const submit = (event: Event) => {
    event.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(args.trim() === '' ? '[]' : args);
    } catch (err) {
      send.reset();
      send.setError(`args: invalid JSON: ${(err as Error).message}`);
      return;
    }
    if (!Array.isArray(parsed)) {
      send.reset();
      send.setError('args: must be a JSON array, e.g. [] or [1, "two"]');
      return;
    }
    const target = kind === 'vat' ? { vat: vatName } : { kref: kref.trim() };
    void send.run(() =>
      askKernel<Sent>('send', { target, method: method.trim(), args: parsed }),
    );
  };

  const ready =
    method.trim() !== '' && (kind === 'vat' ? vatName !== '' : kref.trim() !== '');
  return (
    <View name="send" title="Send a message" busy={send.busy}>
      <ErrorLine error={vatsError} testid="send-vats-error" />
      <form class="form" onSubmit={submit}>
        <label>
          Target
          <span class="row">
            <select
              data-testid="send-target-kind"
              value={kind}
              onChange={(e) => setKind(e.currentTarget.value as 'vat' | 'kref')}
            >
              <option value="vat">vat root</option>
              <option value="kref">kref</option>
            </select>
            {kind === 'vat' ? (
              <select
                data-testid="send-vat"
                value={vatName}
                onChange={(e) => setVat(e.currentTarget.value)}
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
                onInput={(e) => setKref(e.currentTarget.value)}
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
            value={method}
            onInput={(e) => setMethod(e.currentTarget.value)}
          />
        </label>
        <label>
          Args (JSON array)
          <textarea
            rows={4}
            spellcheck={false}
            data-testid="send-args"
            value={args}
            onInput={(e) => setArgs(e.currentTarget.value)}
          />
        </label>
        <div>
          <button type="submit" data-testid="send-submit" disabled={!ready || send.busy}>
            {send.busy ? 'Waiting for the result…' : 'Send'}
          </button>
        </div>
      </form>
      <ErrorLine error={send.error} testid="send-error" />
      {send.result ? (
        <div
          class={`result ${send.result.result.status}`}
          data-testid="send-result"
          data-status={send.result.result.status}
        >
          <p>
            {send.result.target}: {send.result.result.status}
          </p>
          <Json value={send.result.result.value} />
        </div>
      ) : null}
    </View>
  );
}
