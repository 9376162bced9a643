import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kser, kslot, kunser, plainBody } from './index.ts';

/** Strings that are often special to smallcaps: a prefix from `!` to `-`, or none. */
const text = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc
    .tuple(fc.constantFrom(...'!"#$%&\'()*+,-'.split('')), fc.string({ maxLength: 4 }))
    .map(([prefix, rest]) => prefix + rest),
  fc.constantFrom('#undefined', '#NaN', '#tag', '#error', '$0', '&0', '+1', '__proto__'),
);

/** JSON whose strings and property names are drawn from `text`. */
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(text, tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('plainBody', () => {
  it('accepts a body only if kunser decodes it to the same value', () => {
    fc.assert(
      fc.property(
        json,
        fc.array(fc.constantFrom('o+1', 'p-2'), { maxLength: 2 }),
        (data, slots) => {
          const body = `#${JSON.stringify(data)}`;
          const plain = plainBody(body);
          if (plain === undefined) return;
          expect(plain.value).toEqual(kunser({ body, slots }));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('accepts what kser makes of plain data, and declines what needs reviving', () => {
    expect(plainBody(kser(['ping', [0]]).body)).toEqual({ value: ['ping', [0]] });
    expect(plainBody(kser({ a: [1, 'x', null, true] }).body)).toEqual({
      value: { a: [1, 'x', null, true] },
    });
    expect(plainBody(kser(null).body)).toEqual({ value: null });
    for (const value of [
      undefined,
      1n,
      '!x',
      kslot('ko1'),
      Error('no'),
      [NaN],
      { x: '$0' },
    ]) {
      expect(plainBody(kser(value).body), String(value)).toBeUndefined();
    }
  });

  it('declines what is not a smallcaps body, which kunser then judges', () => {
    for (const body of [
      '[1]',
      '#',
      '#[1',
      '',
      '#{"#foo":1}',
      '#"$0"',
      '#{"__proto__":1}',
    ]) {
      expect(plainBody(body), body).toBeUndefined();
    }
  });

  it('walks a deeply nested body without overflowing', () => {
    const depth = 100_000;
    expect(plainBody(`#${'['.repeat(depth)}${']'.repeat(depth)}`)).toBeDefined();
    expect(plainBody(`#${'['.repeat(depth)}"$0"${']'.repeat(depth)}`)).toBeUndefined();
  });
});
