/**
 * Fetches a bundle over http(s), bounded: at most `maxBytes` of body and `timeoutMs` for
 * the whole exchange, no redirect followed silently (each hop is checked again), and
 * only a 200 answer accepted.
 */
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';

export interface FetchLimits {
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
}

export const DEFAULT_FETCH_LIMITS: FetchLimits = {
  maxBytes: 64 * 1024 * 1024,
  timeoutMs: 30_000,
  maxRedirects: 3,
};

const mib = (bytes: number): string =>
  bytes < 1024 * 1024 ? `${bytes} bytes` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export async function fetchBundleText(
  url: URL,
  limits: Partial<FetchLimits> = {},
): Promise<string> {
  const { maxBytes, timeoutMs, maxRedirects } = { ...DEFAULT_FETCH_LIMITS, ...limits };
  const deadline = Date.now() + timeoutMs;
  let at = url;
  for (let hop = 0; ; hop += 1) {
    const answer = await fetchOnce(at, maxBytes, deadline, timeoutMs);
    if (answer.redirect === undefined) return answer.text;
    if (hop >= maxRedirects) {
      throw Error(`fetching ${url.href}: more than ${maxRedirects} redirects`);
    }
    const next = new URL(answer.redirect, at);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw Error(
        `fetching ${url.href}: redirected to ${next.href}, which is not http(s)`,
      );
    }
    at = next;
  }
}

function fetchOnce(
  url: URL,
  maxBytes: number,
  deadline: number,
  timeoutMs: number,
): Promise<
  { text: string; redirect?: undefined } | { text?: undefined; redirect: string }
> {
  return new Promise((resolve, reject) => {
    const get = url.protocol === 'https:' ? httpsGet : httpGet;
    const request = get(url, { headers: { accept: 'application/json' } });
    const timer = setTimeout(
      () => {
        request.destroy(
          Error(`fetching ${url.href}: no complete answer within ${timeoutMs} ms`),
        );
      },
      Math.max(0, deadline - Date.now()),
    );
    const done = () => clearTimeout(timer);
    request.on('error', (error) => {
      done();
      reject(
        error.message.startsWith('fetching ')
          ? error
          : Error(`fetching ${url.href}: ${error.message}`),
      );
    });
    request.on('response', (response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location) {
        response.resume();
        done();
        resolve({ redirect: response.headers.location });
        return;
      }
      if (status !== 200) {
        response.resume();
        done();
        reject(Error(`fetching ${url.href}: the server answered ${status}`));
        return;
      }
      const declared = Number(response.headers['content-length'] ?? NaN);
      if (declared > maxBytes) {
        request.destroy(
          Error(
            `fetching ${url.href}: the bundle is ${mib(declared)}, over the limit of ${mib(maxBytes)}`,
          ),
        );
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          request.destroy(
            Error(
              `fetching ${url.href}: the bundle is over the limit of ${mib(maxBytes)}`,
            ),
          );
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => {
        done();
        if (size <= maxBytes) resolve({ text: Buffer.concat(chunks).toString('utf8') });
      });
      response.on('error', (error) => {
        done();
        reject(Error(`fetching ${url.href}: ${error.message}`));
      });
    });
  });
}
