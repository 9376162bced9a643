import { describe, expect, it } from 'vitest';
import { Far } from '@endo/far';

describe('test realm', () => {
  it('runs under SES lockdown', () => {
    expect(Object.isFrozen(Array.prototype)).toBe(true);
    expect(typeof harden).toBe('function');
    expect(Far('x', {})).toBeTruthy();
  });
});
