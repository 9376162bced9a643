import { describe, expect, it } from 'vitest';
import {
  LogBudget,
  makeTestLog,
  makeVatLogger,
  renderArgs,
  type LogLine,
} from './logger.ts';

describe('the vat logger', () => {
  it("has ocap-kernel's shape; tags accumulate, each once, and a string is one tag", () => {
    const lines: LogLine[] = [];
    const logger = makeVatLogger(new LogBudget((line) => lines.push(line)));
    logger
      .subLogger({ tags: ['a', 'b'] })
      .subLogger('b')
      .subLogger({ tags: ['c'] })
      .info('x', 1);
    logger.subLogger().warn();
    expect(lines).toEqual([
      { level: 'info', tags: ['a', 'b', 'c'], text: 'x 1' },
      { level: 'warn', tags: [], text: '' },
    ]);
    expect(Object.isFrozen(logger)).toBe(true);
  });

  it('renders testLog as SwingSet does: joined with nothing, non-strings as JSON', () => {
    const lines: LogLine[] = [];
    makeTestLog(new LogBudget((line) => lines.push(line)))('a', 1, { b: [2] }, 'c');
    expect(lines).toEqual([{ level: 'test', tags: [], text: 'a1{"b":[2]}c' }]);
  });

  it('never throws, whatever it is given', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(renderArgs([cyclic, 1n])).toBe('[unprintable value] 1n');
    const lines: LogLine[] = [];
    const failing = new LogBudget(() => {
      throw Error('the channel is gone');
    });
    expect(() => makeVatLogger(failing).error('x')).not.toThrow();
    expect(lines).toEqual([]);
  });
});
