import { decodeBase64 } from '@endo/base64';
import { describe, expect, it } from 'vitest';
import { makeNodeSupervisorPlatform } from './platform.ts';

describe("the Node supervisor platform's base64", () => {
  const { decodeBase64: decode } = makeNodeSupervisorPlatform();

  it('decodes as @endo/base64 does, padded or not', () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) & 255);
    for (const length of [0, 1, 2, 3, 998, 1000]) {
      const text = Buffer.from(bytes.subarray(0, length)).toString('base64');
      expect(decode?.(text)).toEqual(decodeBase64(text));
    }
  });

  it('refuses text that is not base64, instead of skipping the bad characters', () => {
    expect(() => decode?.('UEsDB!AA')).toThrow(/outside it/u);
    expect(() => decode?.('UEsD\nBAA')).toThrow(/outside it/u);
  });
});
