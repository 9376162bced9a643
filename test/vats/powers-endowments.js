// A vat that uses whatever endowments its config grants, and reports what it sees.
import { Far } from '@endo/far';

const hex = (buffer) =>
  [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');

const describe = (error) => `${error.name}: ${error.message}`;

export function buildRootObject(vatPowers) {
  let pending;
  return Far('root', {
    bootstrap() {},
    present(names) {
      return names.filter((name) => Object.hasOwn(globalThis, name));
    },
    async fetchText(url, init) {
      const response = await fetch(url, init);
      const text = await response.text();
      vatPowers.testLog(`fetched ${response.status}`);
      return {
        status: response.status,
        text,
        redirected: response.redirected,
        type: response.headers.get('content-type'),
      };
    },
    async fetchJson(url) {
      const response = await fetch(url);
      return response.json();
    },
    async fetchError(url) {
      try {
        await fetch(url);
        return 'resolved';
      } catch (error) {
        return describe(error);
      }
    },
    async abortFetch(url) {
      const controller = new AbortController();
      const response = fetch(url, { signal: controller.signal });
      controller.abort();
      try {
        await response;
        return 'resolved';
      } catch (error) {
        return `${error.name}`;
      }
    },
    /** Starts a fetch and answers when it completes (the test restarts the vat first). */
    fetchLater(url) {
      pending = fetch(url).then((r) => r.text());
      return pending;
    },
    async digest(text) {
      const digest = await crypto.subtle.digest(
        'SHA-256',
        new TextEncoder().encode(text),
      );
      return hex(digest);
    },
    async signAndVerify(text) {
      const key = await crypto.subtle.generateKey(
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['sign', 'verify'],
      );
      const data = new TextEncoder().encode(text);
      const signature = await crypto.subtle.sign('HMAC', key, data);
      return crypto.subtle.verify('HMAC', key, signature, data);
    },
    randomBytes() {
      return crypto.getRandomValues(new Uint8Array(8)).length;
    },
    clock() {
      return { now: Date.now(), random: Math.random() };
    },
    codecs() {
      const bytes = new TextEncoder().encode('héllo');
      const url = new URL('https://example.test/a?b=1');
      url.searchParams.set('c', '2');
      return {
        bytes: bytes.length,
        text: new TextDecoder().decode(bytes),
        url: url.href,
        params: new URLSearchParams('x=1&y=2').get('y'),
        b64: btoa('hi'),
        unb64: atob('aGk='),
      };
    },
    tamper() {
      const attempts = {
        encoderPrototype: () => {
          TextEncoder.prototype.encode = () => 'evil';
        },
        urlPrototype: () => {
          URL.prototype.toString = () => 'evil';
        },
        abortSignal: () => {
          AbortSignal.abort = () => 'evil';
        },
        crypto: () => {
          crypto.getRandomValues = () => 'evil';
        },
        subtle: () => {
          crypto.subtle.digest = () => 'evil';
        },
        fetch: () => {
          fetch.evil = true;
        },
      };
      const result = {};
      for (const [name, attempt] of Object.entries(attempts)) {
        try {
          attempt();
          result[name] = 'changed';
        } catch {
          result[name] = 'refused';
        }
      }
      return result;
    },
    timeoutSignal() {
      try {
        AbortSignal.timeout(10);
        return 'granted';
      } catch (error) {
        return describe(error);
      }
    },
  });
}
