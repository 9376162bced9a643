import { describe, expect, it } from 'vitest';
import { isVatExit } from '../extension/vat-link/index.ts';

describe('isVatExit', () => {
  it("takes a vat's exit and nothing else", () => {
    expect(isVatExit({ type: 'vatExit', reason: 'its supervisor failed' })).toBe(true);
    expect(isVatExit({ type: 'vatExit' })).toBe(false);
    expect(isVatExit({ type: 'vatExit', reason: 7 })).toBe(false);
    expect(isVatExit({ type: 'delivered', crank: 3 })).toBe(false);
    expect(isVatExit(null)).toBe(false);
    expect(isVatExit('vatExit')).toBe(false);
  });
});
