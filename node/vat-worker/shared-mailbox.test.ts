import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MailboxReader,
  MailboxWriter,
  makeSharedChannelLayout,
  toVatOffset,
} from './shared-mailbox.ts';

/** A writer and a reader of one direction, both in this thread. */
function pair(capacity = 256) {
  const { buffer } = makeSharedChannelLayout(capacity);
  const { port1, port2 } = new MessageChannel();
  opened.push(port1, port2);
  return {
    writer: new MailboxWriter(buffer, toVatOffset, capacity, port1),
    reader: new MailboxReader(buffer, toVatOffset, capacity, port2),
  };
}
const opened: MessagePort[] = [];
afterEach(() => {
  for (const port of opened.splice(0)) port.close();
});

const takeAll = (reader: MailboxReader): unknown[] => {
  const taken: unknown[] = [];
  while (reader.available()) taken.push(reader.take());
  return taken;
};

describe('shared mailbox', () => {
  it('keeps order when messages go both through the slot and the port', () => {
    const { writer, reader } = pair();
    // The slot holds one message; the next two find it full and take the port.
    writer.post({ n: 1 });
    writer.post({ n: 2 });
    writer.post({ n: 3 });
    expect(reader.take()).toEqual({ n: 1 });
    writer.post({ n: 4 }); // the slot is free again
    writer.post({ n: 5, big: 'x'.repeat(1000) }); // too large for it
    writer.post({ n: 6 }, false); // sent by the port on purpose
    writer.post({ n: 7 });
    expect(takeAll(reader)).toEqual([
      { n: 2 },
      { n: 3 },
      { n: 4 },
      { n: 5, big: 'x'.repeat(1000) },
      { n: 6 },
      { n: 7 },
    ]);
    expect(reader.available()).toBe(false);
  });

  it('carries any text through the slot', () => {
    const { writer, reader } = pair();
    const texts = ['é', '😀', '\u0000', '\ud800 lone surrogate', 'x'.repeat(200)];
    for (const text of texts) {
      writer.post({ text });
      expect(reader.take()).toEqual({ text });
    }
  });

  it('sends what JSON cannot carry by the port, as a structured clone', () => {
    const { writer, reader } = pair();
    const cyclic: Record<string, unknown> = { n: 1n };
    cyclic.self = cyclic;
    writer.post({ big: 10n });
    writer.post(cyclic);
    const [big, copy] = takeAll(reader) as [unknown, Record<string, unknown>];
    expect(big).toEqual({ big: 10n });
    expect(copy.self).toBe(copy);
  });

  it('wakes a waiting reader when a message is posted, or when woken', async () => {
    const { writer, reader } = pair();
    const waiting = reader.waitAsync();
    expect(waiting).toBeInstanceOf(Promise);
    writer.post({ n: 1 });
    await waiting;
    expect(reader.waitAsync()).toBeUndefined(); // one is waiting: no need to wait
    expect(reader.take()).toEqual({ n: 1 });
    const released = reader.waitAsync();
    reader.wake();
    await released;
    expect(reader.available()).toBe(false);
  });
});
