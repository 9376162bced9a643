/**
 * Small pieces the views share: error lines, JSON blocks, number and time formats, a
 * file download.
 */
import type { ComponentChildren } from 'preact';

/** An error from a request, shown where it happened (nothing when there is none). */
export function ErrorLine({ error, testid }: { error: string | null; testid: string }) {
  if (error === null) return null;
  return (
    <p class="error" role="alert" data-testid={testid}>
      {error}
    </p>
  );
}

/** A view's root: `data-view` names it for tests; `aria-busy` while it waits. */
export function View({
  name,
  title,
  busy = false,
  children,
}: {
  name: string;
  title: string;
  busy?: boolean;
  children: ComponentChildren;
}) {
  return (
    <section class="view" data-view={name} aria-busy={busy ? 'true' : 'false'}>
      <h2>
        {title}
        {busy ? <span class="busy">working…</span> : null}
      </h2>
      {children}
    </section>
  );
}

/** Pretty JSON (references stay `{ "$kref": … }`). */
export function Json({ value, testid }: { value: unknown; testid?: string }) {
  return (
    <pre class="json" data-testid={testid}>
      {json(value)}
    </pre>
  );
}

export function json(value: unknown): string {
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '–';
  if (Math.abs(bytes) < 1024) return `${Math.round(bytes)} B`;
  if (Math.abs(bytes) < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(2)} MiB`;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * Local time of day, HH:MM:SS (with milliseconds if asked). By hand: under SES
 * lockdown the toLocale* methods are tamed to locale-free ones.
 */
export function formatTime(at: number, ms = false): string {
  const d = new Date(at);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return ms ? `${time}.${pad(d.getMilliseconds(), 3)}` : time;
}

export function formatMs(ms: number): string {
  return ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0);
}

/** Saves bytes as a file through a temporary object URL and an <a download>. */
export function download(bytes: Uint8Array, fileName: string): void {
  const url = URL.createObjectURL(
    new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }),
  );
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
