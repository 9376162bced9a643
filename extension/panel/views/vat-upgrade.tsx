/**
 * A vat's code versions and its upgrade, shown under its row in the Vats view.
 *
 * The upgrade goes in steps: pick the new code (a bundle the extension ships, an
 * uploaded bundle JSON, or an earlier version of this vat), optionally new parameters
 * (JSON, checked here before anything is sent), then a confirmation that says what will
 * happen — version N → N+1, the promises it is deciding rejected, heap-only objects
 * abandoned — and only then the request; its result, or the kernel's reason for rolling
 * it back, is shown as it came.
 *
 * data-testids: vat-versions (table), vat-version-row (data-version, data-current),
 * vat-versions-error; vat-upgrade (the form, data-step), vat-upgrade-source-shipped,
 * vat-upgrade-source-upload, vat-upgrade-source-history (radios), vat-upgrade-shipped,
 * vat-upgrade-history (selects), vat-upgrade-file, vat-upgrade-parameters,
 * vat-upgrade-review, vat-upgrade-summary, vat-upgrade-confirm, vat-upgrade-back,
 * vat-upgrade-cancel, vat-upgrade-close, vat-upgrade-error, vat-upgrade-result.
 */
import { useEffect, useState } from 'preact/hooks';
import {
  askKernel,
  type ShippedBundle,
  type UpgradeReport,
  type VatVersionsReport,
} from '../../surface-client/index.ts';
import { errorText, type VatInfo } from '../kernel.ts';
import { json } from '../ui.tsx';

/** A bundle id, short enough for a table: its first 12 characters. */
function shortId(bundleId: string): string {
  return bundleId.length > 14 ? `${bundleId.slice(0, 12)}…` : bundleId;
}

function useVersions(vatId: string, stamp: number) {
  const [report, setReport] = useState<VatVersionsReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    askKernel<VatVersionsReport>('vatVersions', { vat: vatId }).then(
      (r) => {
        if (!live) return;
        setReport(r);
        setError(null);
      },
      (err: unknown) => {
        if (live) setError(errorText(err));
      },
    );
    return () => {
      live = false;
    };
    // `stamp` changes when the vat's version does: the history is loaded again.
  }, [vatId, stamp]);
  return { report, error };
}

/** Every version of a vat's code, oldest first; the one it runs is marked. */
export function VersionHistory({ vat }: { vat: VatInfo }) {
  const { report, error } = useVersions(vat.vatId, vat.version);
  if (error !== null) {
    return (
      <p class="error" role="alert" data-testid="vat-versions-error">
        {error}
      </p>
    );
  }
  if (!report) return <p class="muted">Loading versions…</p>;
  return (
    <table data-testid="vat-versions" class="versions">
      <thead>
        <tr>
          <th class="num">Version</th>
          <th class="num">Since incarnation</th>
          <th>Code</th>
          <th>Parameters</th>
          <th class="num">Upgrade crank</th>
        </tr>
      </thead>
      <tbody>
        {report.versions.map((v) => {
          const current = v.version === report.current;
          return (
            <tr
              key={v.version}
              data-testid="vat-version-row"
              data-version={v.version}
              data-current={current ? 'true' : 'false'}
              class={current ? 'selected' : ''}
            >
              <td class="num">
                {v.version}
                {current ? ' (running)' : ''}
              </td>
              <td class="num">{v.incarnation}</td>
              <td class="mono" title={v.bundleId}>
                {v.shippedAs ? `${v.shippedAs} · ` : ''}
                {shortId(v.bundleId)}
              </td>
              <td class="mono wrap">{JSON.stringify(v.parameters)}</td>
              <td class="num">{v.crank ?? 'created'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

type Source = 'shipped' | 'upload' | 'history';

/** What the form would send, and how the confirmation names it. */
interface Plan {
  code: { bundleSpec: string } | { bundle: unknown } | { bundleId: string };
  label: string;
  parameters?: Record<string, unknown>;
}

/** The new code and parameters the form holds, checked; or what is wrong with them. */
function makePlan(form: {
  source: Source;
  shipped: string;
  uploaded: { name: string; bundle: unknown } | null;
  history: string;
  parameters: string;
  versions: VatVersionsReport | null;
}): Plan | string {
  let code: Plan['code'];
  let label: string;
  if (form.source === 'shipped') {
    if (!form.shipped) return 'pick a bundle the extension ships';
    code = { bundleSpec: form.shipped };
    label = form.shipped;
  } else if (form.source === 'upload') {
    if (!form.uploaded) return 'choose a bundle JSON file to upload';
    code = { bundle: form.uploaded.bundle };
    label = `the uploaded bundle ${form.uploaded.name}`;
  } else {
    const v = form.versions?.versions.find((x) => String(x.version) === form.history);
    if (!v) return 'pick an earlier version of this vat';
    code = { bundleId: v.bundleId };
    label = `the code of its version ${v.version}${v.shippedAs ? ` (${v.shippedAs})` : ''}, bundle ${shortId(v.bundleId)}`;
  }
  const text = form.parameters.trim();
  if (text === '') return { code, label };
  let parameters: unknown;
  try {
    parameters = JSON.parse(text);
  } catch (err) {
    return `parameters: invalid JSON: ${(err as Error).message}`;
  }
  if (
    parameters === null ||
    typeof parameters !== 'object' ||
    Array.isArray(parameters)
  ) {
    return 'parameters: expected a JSON object of named parameters, e.g. { "start": 5 }';
  }
  return { code, label, parameters: parameters as Record<string, unknown> };
}

/** The upgrade of one running or suspended vat, from picking the code to the outcome. */
export function UpgradeForm(props: {
  vat: VatInfo;
  /** The upgrade ran (kept or rolled back): the vats list is reloaded. */
  onDone: () => void;
  onClose: () => void;
  /** The request is under way (the view shows aria-busy meanwhile). */
  onBusy: (busy: boolean) => void;
}) {
  const { vat, onBusy } = props;
  const { report: versions } = useVersions(vat.vatId, vat.version);
  const [shippedList, setShippedList] = useState<ShippedBundle[] | null>(null);
  const [source, setSource] = useState<Source>('shipped');
  const [shipped, setShipped] = useState('');
  const [uploaded, setUploaded] = useState<{ name: string; bundle: unknown } | null>(
    null,
  );
  const [history, setHistory] = useState('');
  const [parameters, setParameters] = useState('');
  const [step, setStep] = useState<'choose' | 'confirm' | 'running' | 'done'>('choose');
  const [plan, setPlan] = useState<Plan | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<UpgradeReport | null>(null);

  useEffect(() => {
    let live = true;
    askKernel<{ shipped: ShippedBundle[] }>('listBundles').then(
      (r) => {
        if (live) setShippedList(r.shipped);
      },
      (err: unknown) => {
        if (live) setError(`the shipped bundles could not be listed: ${errorText(err)}`);
      },
    );
    return () => {
      live = false;
    };
  }, []);

  const current = vat.version;
  const earlier = (versions?.versions ?? []).filter((v) => v.version !== current);

  const upload = async (event: Event) => {
    const input = event.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    setUploaded(null);
    try {
      const bundle = JSON.parse(await file.text()) as unknown;
      if (bundle === null || typeof bundle !== 'object' || !('moduleFormat' in bundle)) {
        setError(`${file.name} is not a bundle: a bundle JSON has a moduleFormat`);
        return;
      }
      setUploaded({ name: file.name, bundle });
      setError(null);
    } catch (err) {
      setError(`${file.name}: invalid JSON: ${(err as Error).message}`);
    }
  };

  const review = (event: Event) => {
    event.preventDefault();
    const made = makePlan({ source, shipped, uploaded, history, parameters, versions });
    if (typeof made === 'string') {
      setError(made);
      return;
    }
    setError(null);
    setPlan(made);
    setStep('confirm');
  };

  const confirm = async () => {
    if (!plan) return;
    setStep('running');
    setError(null);
    onBusy(true);
    try {
      const result = await askKernel<UpgradeReport>('upgradeVat', {
        vat: vat.vatId,
        ...plan.code,
        ...(plan.parameters ? { parameters: plan.parameters } : {}),
      });
      setOutcome(result);
    } catch (err) {
      // The kernel's reason, as it gave it (it says what was rolled back, and why).
      setError((err as Error).message || errorText(err));
    } finally {
      onBusy(false);
      setStep('done');
      props.onDone();
    }
  };

  const radio = (value: Source, text: string) => (
    <label>
      <input
        type="radio"
        name={`upgrade-source-${vat.vatId}`}
        data-testid={`vat-upgrade-source-${value}`}
        checked={source === value}
        onChange={() => {
          setSource(value);
          setError(null);
        }}
      />{' '}
      {text}
    </label>
  );

  return (
    <div class="upgrade" data-testid="vat-upgrade" data-step={step}>
      <h4>
        Upgrade {vat.name} ({vat.vatId}), now at version {current}
      </h4>
      {step === 'choose' ? (
        <form onSubmit={review}>
          <div class="toolbar">
            {radio('shipped', 'a bundle the extension ships')}
            {radio('upload', 'an uploaded bundle JSON')}
            {radio('history', 'an earlier version of this vat')}
          </div>
          {source === 'shipped' ? (
            <select
              data-testid="vat-upgrade-shipped"
              value={shipped}
              onChange={(e) => setShipped(e.currentTarget.value)}
            >
              <option value="">
                {shippedList ? 'choose a bundle…' : 'loading the bundles…'}
              </option>
              {(shippedList ?? []).map((b) => (
                <option key={b.name} value={b.bundleSpec}>
                  {b.name}
                </option>
              ))}
            </select>
          ) : source === 'upload' ? (
            <span>
              <input
                type="file"
                accept=".json,application/json"
                data-testid="vat-upgrade-file"
                onChange={(e) => void upload(e)}
              />{' '}
              {uploaded ? <span class="mono">{uploaded.name}</span> : null}
            </span>
          ) : (
            <select
              data-testid="vat-upgrade-history"
              value={history}
              onChange={(e) => setHistory(e.currentTarget.value)}
            >
              <option value="">
                {earlier.length ? 'choose a version…' : 'no earlier version'}
              </option>
              {earlier.map((v) => (
                <option key={v.version} value={String(v.version)}>
                  version {v.version}
                  {v.shippedAs ? ` (${v.shippedAs})` : ''} · {shortId(v.bundleId)}
                </option>
              ))}
            </select>
          )}
          <label class="block">
            Parameters (JSON object; leave empty to keep the current ones)
            <textarea
              data-testid="vat-upgrade-parameters"
              rows={3}
              spellcheck={false}
              placeholder='{ "start": 5 }'
              value={parameters}
              onInput={(e) => setParameters(e.currentTarget.value)}
            />
          </label>
          <div class="toolbar">
            <button type="submit" data-testid="vat-upgrade-review">
              Review upgrade…
            </button>
            <button
              type="button"
              data-testid="vat-upgrade-cancel"
              onClick={props.onClose}
            >
              Cancel
            </button>
          </div>
        </form>
      ) : null}
      {(step === 'confirm' || step === 'running') && plan ? (
        <div class="confirm">
          <p data-testid="vat-upgrade-summary">
            Upgrade {vat.name} from version {current} to version {current + 1}, running{' '}
            {plan.label}. Its durable state (baggage, durable objects) is kept, and the
            new code must define every durable kind again. The promises version {current}{' '}
            is deciding will be rejected. Objects it keeps only on its heap (and virtual
            ones) are abandoned: references to them break.{' '}
            {plan.parameters
              ? `Its parameters become ${json(plan.parameters)}.`
              : 'Its parameters stay as they are.'}{' '}
            {vat.state === 'suspended'
              ? 'It is suspended: the new version gets the messages waiting for it. '
              : ''}
            If version {current + 1} fails to start, the upgrade is rolled back and
            version {current} runs on.
          </p>
          <button
            type="button"
            class="danger"
            data-testid="vat-upgrade-confirm"
            disabled={step === 'running'}
            onClick={() => void confirm()}
          >
            {step === 'running' ? 'Upgrading…' : `Upgrade ${vat.name}`}
          </button>
          <button
            type="button"
            data-testid="vat-upgrade-back"
            disabled={step === 'running'}
            onClick={() => setStep('choose')}
          >
            Back
          </button>
          <button
            type="button"
            data-testid="vat-upgrade-cancel"
            disabled={step === 'running'}
            onClick={props.onClose}
          >
            Cancel
          </button>
        </div>
      ) : null}
      {error !== null ? (
        <p class="error wrap" role="alert" data-testid="vat-upgrade-error">
          {error}
        </p>
      ) : null}
      {step === 'done' ? (
        <>
          {outcome ? (
            <p class="ok" data-testid="vat-upgrade-result">
              Upgraded {vat.name} to version {outcome.version} (incarnation{' '}
              {outcome.incarnationNumber}, bundle {shortId(outcome.bundleId)}).
            </p>
          ) : null}
          <button type="button" data-testid="vat-upgrade-close" onClick={props.onClose}>
            Close
          </button>
        </>
      ) : null}
    </div>
  );
}
