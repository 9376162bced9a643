/**
 * Links between views, carried by the location hash: `#VIEW?key=value&…`. The panel
 * opens VIEW (index.tsx ignores what follows `?`); the view reads its params when it
 * mounts. The formats:
 *
 * - `#send?target=KREF&method=NAME`: the Send view, aimed at the kref `KREF` (an object
 *   `ko…` or a promise `kp…`), with the method filled in if `method` is given.
 * - `#vats?vat=VATID`: the Vats view, with that vat's row marked.
 * - `#objects?vat=VATID&kref=KREF`: the Objects view on that vat's c-list, with the
 *   kref's row marked (both optional).
 */

/** The params of the hash if it names `view` (`#view?…`), else null. */
export function hashParams(view: string): URLSearchParams | null {
  const hash = location.hash.slice(1);
  const at = hash.indexOf('?');
  const name = at < 0 ? hash : hash.slice(0, at);
  if (name !== view) return null;
  return new URLSearchParams(at < 0 ? '' : hash.slice(at + 1));
}

function href(view: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') query.set(key, value);
  }
  const text = query.toString();
  return text === '' ? `#${view}` : `#${view}?${text}`;
}

/** The Send view aimed at `target`, with `method` filled in if given. */
export const sendHref = (target: string, method?: string): string =>
  href('send', { target, method });

/** The Vats view with `vatId`'s row marked. */
export const vatHref = (vatId: string): string => href('vats', { vat: vatId });

/** The Objects view on `vatId`'s c-list, with `kref`'s row marked. */
export const objectsHref = (vatId: string, kref?: string): string =>
  href('objects', { vat: vatId, kref });
