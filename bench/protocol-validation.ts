/**
 * What validating the two messages of every crank costs: the superstruct schema alone,
 * and `parse…` as the kernel and supervisor call it (the hand-written check first).
 * Prints a table and one JSON line.
 *
 *   npm run bench -- protocol-validation [--count 100000]
 */
import { validate } from '@metamask/superstruct';
import {
  KernelToVatStruct,
  VatToKernelStruct,
  parseKernelToVat,
  parseVatToKernel,
} from '../kernel/protocol/index.ts';
import { option } from './stats.ts';

const count = Number(option('--count', '100000'));

const deliver = {
  type: 'deliver',
  crank: 12345,
  delivery: {
    kind: 'message',
    target: 'o+0',
    methargs: { body: '#["ping",[1234]]', slots: [] },
    result: 'p-1234',
  },
};
// The pinger's reply to the notify of a ping's answer: its next ping, with one write.
const delivered = {
  type: 'delivered',
  crank: 12345,
  outcome: 'ok',
  syscalls: [
    {
      kind: 'send',
      target: 'o-50',
      methargs: { body: '#["ping",[1235]]', slots: [] },
      result: 'p+12',
    },
    { kind: 'subscribe', vpid: 'p+12' },
  ],
  delta: {
    sets: [['vc.1.slast', `{"body":"#\\"1234:${'x'.repeat(100)}\\"","slots":[]}`]],
    deletes: [],
  },
};

/** Microseconds per call, median of 5 batches after a warm-up. */
function time(f: () => unknown): number {
  for (let i = 0; i < count / 10; i++) f();
  const batches: number[] = [];
  for (let b = 0; b < 5; b++) {
    const t0 = performance.now();
    for (let i = 0; i < count; i++) f();
    batches.push(((performance.now() - t0) * 1000) / count);
  }
  return batches.sort((a, b) => a - b)[2] as number;
}

const rows: [string, number, number][] = [
  [
    'deliver (message)',
    time(() => validate(deliver, KernelToVatStruct)),
    time(() => parseKernelToVat(deliver)),
  ],
  [
    'delivered (send, subscribe, one set)',
    time(() => validate(delivered, VatToKernelStruct)),
    time(() => parseVatToKernel(delivered)),
  ],
];
console.log(
  `µs per message, ${count} x 5 (median): schema only, parse… (fast check first)`,
);
for (const [name, schema, parse] of rows) {
  console.log(
    `${name.padEnd(40)} ${schema.toFixed(2).padStart(7)} ${parse.toFixed(2).padStart(7)}`,
  );
}
console.log(
  JSON.stringify({
    bench: 'protocol-validation',
    count,
    microseconds: Object.fromEntries(
      rows.map(([name, schema, parse]) => [
        name,
        { schema: +schema.toFixed(3), parse: +parse.toFixed(3) },
      ]),
    ),
  }),
);
