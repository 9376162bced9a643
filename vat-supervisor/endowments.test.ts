import { describe, expect, it } from 'vitest';
import { ALLOWED_GLOBALS, EndowmentError, selectGlobals } from './endowments.ts';

describe('vat endowments', () => {
  it('takes realm globals from the realm and host globals only from the host', () => {
    const fetch = () => undefined;
    const selected = selectGlobals(['Date', 'TextEncoder', 'fetch'], { fetch });
    expect(selected).toEqual({ Date, TextEncoder, fetch });
  });

  it('names a global that is not allowed, and one the host does not offer', () => {
    expect(() => selectGlobals(['setTimeout'])).toThrow(EndowmentError);
    expect(() => selectGlobals(['setTimeout'])).toThrow(/"setTimeout" is not allowed/);
    expect(() => selectGlobals(['fetch'])).toThrow(/"fetch" is not offered by this host/);
    // Names inherited from Object.prototype are not on the list.
    expect(() => selectGlobals(['toString'])).toThrow(/not allowed/);
  });

  it('lists what may be asked for', () => {
    expect(ALLOWED_GLOBALS).toContain('fetch');
    expect(ALLOWED_GLOBALS).not.toContain('setTimeout');
    expect(Object.isFrozen(ALLOWED_GLOBALS)).toBe(true);
  });
});
