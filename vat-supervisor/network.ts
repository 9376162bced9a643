/**
 * The `fetch` a vat may be endowed with: only to the hosts its config allows (vat config
 * `network.allowedHosts`, as in ocap-kernel), over http(s), following redirects only to
 * allowed hosts, and with every completion (the response, each body read) delivered in a
 * crank of its own through HostCompletions.
 *
 * The vat sees a frozen record, not the host's Response: the host's classes (Response,
 * Headers, ReadableStream) stay out of its reach, and a body can only be read whole
 * (`text`, `json`, `arrayBuffer`, `bytes`): a stream's chunks would arrive between cranks.
 */
import { vatError, type HostCompletions } from './completions.ts';

export type HostFetch = (input: string, init?: RequestInit) => Promise<Response>;

/** Redirects followed for one request, as browsers do. */
const MAX_REDIRECTS = 20;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export interface VatHeaders {
  get(name: string): string | null;
  has(name: string): boolean;
  entries(): Array<[string, string]>;
  keys(): string[];
  values(): string[];
  forEach(callback: (value: string, name: string) => void): void;
}

export interface VatResponse {
  ok: boolean;
  status: number;
  statusText: string;
  url: string;
  redirected: boolean;
  headers: VatHeaders;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
  bytes(): Promise<Uint8Array>;
}

function checkHost(url: URL, allowedHosts: readonly string[]): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw TypeError(
      `fetch to ${url.protocol} URLs is not allowed for vats (http and https only)`,
    );
  }
  // An entry names a host (any port, as ocap-kernel's) or a host:port.
  if (!allowedHosts.includes(url.hostname) && !allowedHosts.includes(url.host)) {
    throw TypeError(
      `fetch to ${url.host} is not allowed: it is not in this vat's network.allowedHosts (${allowedHosts.join(', ') || 'none'})`,
    );
  }
}

function vatHeaders(headers: Headers): VatHeaders {
  const entries: Array<[string, string]> = [...headers.entries()];
  return harden({
    get: (name: string) => headers.get(String(name)),
    has: (name: string) => headers.has(String(name)),
    entries: () => entries.map(([k, v]): [string, string] => [k, v]),
    keys: () => entries.map(([k]) => k),
    values: () => entries.map(([, v]) => v),
    forEach(callback: (value: string, name: string) => void) {
      for (const [k, v] of entries) callback(v, k);
    },
  });
}

/** The request options a vat may set; anything else in its `init` is ignored. */
function requestInit(init: unknown): RequestInit {
  if (init === undefined || init === null) return {};
  if (typeof init !== 'object') throw TypeError('fetch: init must be an object');
  const given = init as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  for (const key of [
    'method',
    'headers',
    'body',
    'signal',
    'cache',
    'credentials',
    'referrer',
    'integrity',
    'keepalive',
  ]) {
    if (given[key] !== undefined) picked[key] = given[key];
  }
  return picked as RequestInit;
}

export function makeVatFetch(
  hostFetch: HostFetch,
  allowedHosts: readonly string[],
  completions: HostCompletions,
): (input: unknown, init?: unknown) => Promise<VatResponse> {
  const hosts = harden([...allowedHosts]);

  /** Fetches, following redirects by hand so that every hop is checked. */
  async function fetchChecked(first: URL, init: RequestInit, follow: boolean) {
    let url = first;
    let options = init;
    for (let hop = 0; ; hop += 1) {
      const response = await hostFetch(url.href, { ...options, redirect: 'manual' });
      const location = response.headers.get('location');
      if (!follow || !REDIRECT_STATUSES.has(response.status) || location === null) {
        return { response, redirected: hop > 0 };
      }
      if (hop === MAX_REDIRECTS) {
        throw TypeError(`fetch: more than ${MAX_REDIRECTS} redirects from ${first.href}`);
      }
      await response.body?.cancel();
      url = new URL(location, url);
      checkHost(url, hosts);
      const method = (options.method ?? 'GET').toUpperCase();
      if (
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && method === 'POST')
      ) {
        const { body: _body, ...rest } = options;
        options = { ...rest, method: 'GET' };
      }
    }
  }

  function vatResponse(response: Response, redirected: boolean): VatResponse {
    const read = <T, R>(
      what: string,
      take: (r: Response) => Promise<T>,
      adapt: (v: T) => R,
    ) => completions.defer(`response.${what}()`, () => take(response), adapt);
    return harden({
      ok: response.ok,
      status: response.status,
      statusText: response.statusText,
      url: response.url,
      redirected,
      headers: vatHeaders(response.headers),
      text: () =>
        read(
          'text',
          (r) => r.text(),
          (v) => v,
        ),
      json: () =>
        read(
          'json',
          (r) => r.json() as Promise<unknown>,
          (v) => v,
        ),
      arrayBuffer: () =>
        read(
          'arrayBuffer',
          (r) => r.arrayBuffer(),
          (v) => v,
        ),
      bytes: () =>
        read(
          'bytes',
          (r) => r.arrayBuffer(),
          (v) => new Uint8Array(v),
        ),
    });
  }

  return harden(function fetch(input: unknown, init?: unknown): Promise<VatResponse> {
    let url: URL;
    let options: RequestInit;
    try {
      url = new URL(String(input));
      checkHost(url, hosts);
      options = requestInit(init);
    } catch (error) {
      return Promise.reject(vatError(error, 'fetch'));
    }
    const follow = (init as { redirect?: unknown } | undefined)?.redirect !== 'manual';
    return completions.defer(
      `fetch ${url.href}`,
      () => fetchChecked(url, options, follow),
      ({ response, redirected }) => vatResponse(response, redirected),
    );
  });
}
