import { describe, expect, it } from 'vitest';
import { VAT_LOG_LIMITS, parseVatToKernel } from '../kernel/protocol/index.ts';
import { bundleVatSource } from '../node/bundles/index.ts';
import { makeNodeSupervisorPlatform } from '../node/vat-worker/index.ts';
import { callRoot, initVat, startVat } from '../test/fixtures/vat-harness.ts';
import { testVat } from '../test/kernel-harness.ts';
import { makeVatSupervisor } from './index.ts';
import { LogBudget, makeTestLog, makeVatLogger, renderArgs, type LogLine } from './logger.ts';

describe('the vat logger', () => {
  it("has ocap-kernel's shape; tags accumulate, each once, and a string is one tag", () => {
    const lines: LogLine[] = [];
    const logger = makeVatLogger(new LogBudget((line) => lines.push(line)));
    logger.subLogger({ tags: ['a', 'b'] }).subLogger('b').subLogger({ tags: ['c'] }).info('x', 1);
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

describe('logging in a vat', () => {
  it('posts each line on its own, before the reply, and none in the reply', async () => {
    const posted: unknown[] = [];
    const supervisor = makeVatSupervisor({
      post: (message) => posted.push(parseVatToKernel(message)),
      platform: makeNodeSupervisorPlatform(),
    });
    await supervisor.handle(initVat('v1', await bundleVatSource(testVat('powers-logger.js'))));
    await supervisor.handle(startVat(1));
    posted.length = 0;
    await supervisor.handle(callRoot(2, 'flood', [2], 'p-1'));
    expect(posted.map((m) => (m as { type: string }).type)).toEqual([
      'vatLog',
      'vatLog',
      'delivered',
    ]);
    const reply = posted[2] as { syscalls: Array<{ kind: string }> };
    // The only syscall is the result's resolution: a log line is not one.
    expect(reply.syscalls.map((s) => s.kind)).toEqual(['resolve']);
    posted.length = 0;
    await supervisor.handle(callRoot(3, 'flood', [VAT_LOG_LIMITS.linesPerDelivery * 2], 'p-2'));
    const logs = posted.filter((m) => (m as { type: string }).type === 'vatLog');
    // Within the kernel's budget, the count of dropped lines included.
    expect(logs).toHaveLength(VAT_LOG_LIMITS.linesPerDelivery);
    expect(logs.at(-1)).toMatchObject({ level: 'warn', tags: ['cask'] });
  });
});
