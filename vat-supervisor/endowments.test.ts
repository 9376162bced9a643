import { describe, expect, it } from 'vitest';
import { HostCompletions } from './completions.ts';
import {
  ALLOWED_GLOBALS,
  EndowmentError,
  WITHHELD_GLOBALS,
  makeEndowments,
} from './endowments.ts';

interface TestCrypto {
  subtle: { digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer> };
}

const context = (hostGlobals: Record<string, unknown> = {}) => ({
  network: { allowedHosts: ['example.test'] },
  hostGlobals,
  completions: new HostCompletions(() => undefined),
});

describe('vat endowments', () => {
  it('makes exactly the names asked for', () => {
    const fetch = () => Promise.reject(Error('not used'));
    const made = makeEndowments(['Date', 'TextEncoder', 'fetch'], context({ fetch }));
    expect(Object.keys(made).sort()).toEqual(['Date', 'TextEncoder', 'fetch']);
    expect(made.Date).toBe(Date);
    expect(made.TextEncoder).toBe(TextEncoder);
    // The vat's fetch is a wrapper of its own, frozen; never the host's.
    expect(made.fetch).not.toBe(fetch);
    expect(Object.isFrozen(made.fetch)).toBe(true);
  });

  it('hardens a realm class before any vat gets it', () => {
    makeEndowments(['URL'], context());
    expect(Object.isFrozen(URL)).toBe(true);
    expect(Object.isFrozen(URL.prototype)).toBe(true);
  });

  it('gives each vat a crypto of its own, whose subtle completes through its completions', async () => {
    const asked: number[] = [];
    let heard: () => void = () => undefined;
    const askedOnce = new Promise<void>((resolve) => {
      heard = resolve;
    });
    const completions = new HostCompletions(() => {
      asked.push(1);
      heard();
    });
    const a = makeEndowments(['crypto'], { ...context(), completions })
      .crypto as TestCrypto;
    const b = makeEndowments(['crypto'], context()).crypto as TestCrypto;
    expect(a).not.toBe(b);
    expect(Object.isFrozen(a) && Object.isFrozen(a.subtle)).toBe(true);
    let settled = false;
    const digest = a.subtle
      .digest('SHA-256', new Uint8Array([1]))
      .then(() => (settled = true));
    // The host finished (the supervisor is asked to settle), but the vat hears of it
    // only when the supervisor settles.
    await askedOnce;
    expect(asked).toEqual([1]);
    expect(settled).toBe(false);
    expect(completions.settleAll()).toBe(1);
    await digest;
    expect(settled).toBe(true);
  });

  it('names a global that is not allowed, and one the host does not offer', () => {
    expect(() => makeEndowments(['setImmediate'], context())).toThrow(EndowmentError);
    expect(() => makeEndowments(['setImmediate'], context())).toThrow(
      /"setImmediate" is not allowed/u,
    );
    expect(() => makeEndowments(['fetch'], context())).toThrow(
      /"fetch" is not offered by this host/u,
    );
    // Names inherited from Object.prototype are not on the list.
    expect(() => makeEndowments(['toString'], context())).toThrow(/not allowed/u);
  });

  it('refuses fetch without the hosts it may reach', () => {
    const fetch = () => Promise.reject(Error('not used'));
    expect(() =>
      makeEndowments(['fetch'], { ...context({ fetch }), network: undefined }),
    ).toThrow(/"fetch" needs the hosts it may reach/u);
  });

  it('lists what may be asked for, and what a vat that did not ask lacks', () => {
    expect(ALLOWED_GLOBALS).toContain('fetch');
    expect(ALLOWED_GLOBALS).not.toContain('setImmediate');
    expect(Object.isFrozen(ALLOWED_GLOBALS)).toBe(true);
    expect(WITHHELD_GLOBALS).toContain('TextEncoder');
    expect(WITHHELD_GLOBALS).not.toContain('Date');
  });
});
