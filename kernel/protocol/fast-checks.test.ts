import { validate, type Struct } from '@metamask/superstruct';
import { describe, expect, it } from 'vitest';
import { isValidDeliver, isValidDelivered } from './fast-checks.ts';
import {
  KernelToVatStruct,
  VatToKernelStruct,
  initVatPairs,
  parseKernelToVat,
  parseVatToKernel,
} from './index.ts';

/** A small seeded generator (mulberry32), so that a failure can be replayed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const many = <T>(make: () => T, max = 3): T[] =>
    Array.from({ length: int(max + 1) }, make);
  return { next, int, pick, many };
}
type Rng = ReturnType<typeof rng>;

const VREF_CHARS = '0123456789abcdefghijklmnopqrstuvwxyz/:+-';
const vref = (r: Rng) =>
  `${r.pick(['o', 'p'])}${r.pick(['+', '-'])}${Array.from({ length: r.int(6) }, () =>
    r.pick([...VREF_CHARS]),
  ).join('')}`;
const vpid = (r: Rng) => `p${r.pick(['+', '-'])}${r.int(100000)}`;
const capdata = (r: Rng) => ({
  body: r.pick(['#null', '#["ping",[1]]', `#"${'é'.repeat(r.int(3))}"`, '']),
  slots: r.many(() => vref(r)),
});
const resolution = (r: Rng) => ({
  vpid: vpid(r),
  rejected: r.next() < 0.5,
  data: capdata(r),
});

const timerIds = (r: Rng) => r.many(() => r.pick([1, 2, r.int(1e6) + 1]));

function delivery(r: Rng): unknown {
  switch (r.int(10)) {
    case 6:
      return { kind: 'settle' };
    case 7:
      return { kind: 'settle', timers: timerIds(r) };
    case 0:
      return {
        kind: 'message',
        target: vref(r),
        methargs: capdata(r),
        result: r.next() < 0.3 ? null : vpid(r),
      };
    case 1:
      return { kind: 'notify', resolutions: r.many(() => resolution(r)) };
    case 2:
      return {
        kind: r.pick(['dropExports', 'retireExports', 'retireImports']),
        vrefs: r.many(() => vref(r)),
      };
    case 3:
      return { kind: 'bringOutYourDead' };
    case 4:
      return { kind: 'startVat', parameters: capdata(r) };
    case 5:
      return { kind: 'stopVat', disconnect: capdata(r) };
    default:
      return { kind: 'message', target: vref(r), methargs: capdata(r), result: vpid(r) };
  }
}

function syscall(r: Rng): unknown {
  switch (r.int(8)) {
    case 4:
      return {
        kind: 'setTimer',
        id: r.int(1e6) + 1,
        ms: r.pick([0, 1, r.int(1e9), 2 ** 31 - 1]),
      };
    case 5:
      return { kind: 'clearTimer', id: r.int(1e6) + 1 };
    case 0:
      return {
        kind: 'send',
        target: vref(r),
        methargs: capdata(r),
        result: r.next() < 0.3 ? null : vpid(r),
      };
    case 1:
      return { kind: 'resolve', resolutions: r.many(() => resolution(r)) };
    case 2:
      return { kind: 'subscribe', vpid: vpid(r) };
    case 3:
      return { kind: 'exit', failure: r.next() < 0.5, info: capdata(r) };
    default:
      return {
        kind: r.pick(['dropImports', 'retireImports', 'retireExports', 'abandonExports']),
        vrefs: r.many(() => vref(r)),
      };
  }
}

const crank = (r: Rng) => r.pick([0, 1, 7, r.int(1e9), Number.MAX_SAFE_INTEGER]);

const deliverMessage = (r: Rng) => ({
  type: 'deliver',
  crank: crank(r),
  delivery: delivery(r),
});

function deliveredMessage(r: Rng) {
  const message: Record<string, unknown> = {
    type: 'delivered',
    crank: crank(r),
    outcome: 'ok',
    syscalls: r.many(() => syscall(r), 4),
    delta: {
      sets: r.many(() => [`k${r.int(100)}`, 'x'.repeat(r.int(5))]),
      deletes: r.many(() => `k${r.int(100)}`),
    },
  };
  if (r.next() < 0.2) message.info = { retained: r.int(10) };
  return message;
}

/** Values of the wrong kind, and strings that almost are vrefs or vpids. */
const ODD_VALUES: readonly unknown[] = [
  undefined,
  null,
  true,
  false,
  0,
  -1,
  -0,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '',
  'deliver',
  'delivered',
  'ok',
  'message',
  'send',
  'o+',
  'o+1',
  'p-1',
  'p+',
  'p+1a',
  'o+A',
  'x+1',
  'o*1',
  'o+1\n',
  ' o+1',
  'one of: initVat, deliver',
  'one of: vatReady, vatInitFailed, delivered, deliveryFailed, vatLog, settleRequest',
  'one of: message, notify, dropExports, retireExports, retireImports, bringOutYourDead, startVat, stopVat, settle',
  [],
  ['a'],
  ['a', 'b'],
  ['a', 'b', 'c'],
  [1, 'b'],
  {},
  { body: '', slots: [] },
  { vpid: 'p+1', rejected: false, data: { body: '', slots: [] } },
];

/** Every [parent, key] in a message, for the mutator to choose from. */
function places(
  value: unknown,
  out: [Record<string, unknown> | unknown[], string | number][] = [],
) {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      out.push([value, i]);
      places(item, out);
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      out.push([value as Record<string, unknown>, key]);
      places(item, out);
    }
  }
  return out;
}

/** One to three random changes: a field replaced, removed, added; an array grown or cut. */
function mutate(r: Rng, message: unknown): unknown {
  const copy = structuredClone(message);
  for (let n = 1 + r.int(3); n > 0; n--) {
    const spots = places(copy);
    const spot = spots.length ? r.pick(spots) : undefined;
    if (spot === undefined) break;
    const [parent, key] = spot;
    const change = r.int(6);
    if (Array.isArray(parent)) {
      const i = key as number;
      if (change === 0) parent.splice(i, 1);
      else if (change === 1) parent.push(r.pick(ODD_VALUES));
      else if (change === 2)
        Reflect.deleteProperty(parent, i); // a hole
      else parent[i] = structuredClone(r.pick(ODD_VALUES));
    } else {
      const record = parent as Record<string, unknown>;
      if (change === 0) Reflect.deleteProperty(record, key);
      else if (change === 1)
        record[r.pick(['extra', 'info', 'kind', 'type', 'crank', 'error'])] =
          structuredClone(r.pick(ODD_VALUES));
      else if (change === 2)
        record[key as string] = r.pick([-1, 0.5, -0, 2 ** 53, Number.NaN]);
      else record[key as string] = structuredClone(r.pick(ODD_VALUES));
    }
  }
  return copy;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the protocol structs
const schemaAccepts = (value: unknown, struct: Struct<any, any>) =>
  !validate(value, struct)[0];

/** The error `parse…` must throw: the schema's, worded as before the fast checks. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the protocol structs
function schemaError(value: unknown, struct: Struct<any, any>, what: string): string {
  const [failure] = validate(value, struct);
  if (!failure) throw Error('expected a failure');
  const where = failure.path.length ? ` at ${failure.path.join('.')}` : '';
  return `invalid ${what}${where}: ${failure.message}`;
}

describe('fast protocol checks', () => {
  const cases = [
    {
      name: 'deliver',
      make: deliverMessage,
      fast: isValidDeliver,
      struct: KernelToVatStruct,
      parse: parseKernelToVat,
      what: 'message from kernel',
    },
    {
      name: 'delivered',
      make: deliveredMessage,
      fast: isValidDelivered,
      struct: VatToKernelStruct,
      parse: parseVatToKernel,
      what: 'message from vat',
    },
  ];

  for (const { name, make, fast, struct, parse, what } of cases) {
    it(`accept exactly the ${name} messages the schema accepts (generated, seeded)`, () => {
      const r = rng(0x5eed + name.length);
      let accepted = 0;
      let rejected = 0;
      for (let i = 0; i < 6000; i++) {
        const valid = make(r);
        const message = i % 5 === 0 ? valid : mutate(r, valid);
        const expected = schemaAccepts(message, struct);
        if (fast(message) !== expected) {
          throw Error(
            `fast check says ${!expected} where the schema says ${expected} for ${JSON.stringify(message)}`,
          );
        }
        if (expected) {
          accepted += 1;
          expect(parse(message)).toBe(message);
        } else {
          rejected += 1;
          expect(() => parse(message)).toThrow(schemaError(message, struct, what));
        }
      }
      // Both sides of the property were exercised, not just one.
      // More accepted than the unchanged fifth: some changes keep a message valid.
      expect(accepted).toBeGreaterThan(1200);
      expect(rejected).toBeGreaterThan(2000);
    });
  }

  it('accepts what crossed a thread boundary (a structured clone) and JSON alike', () => {
    const r = rng(7);
    for (let i = 0; i < 500; i++) {
      const message = deliveredMessage(r);
      expect(isValidDelivered(structuredClone(message))).toBe(true);
      expect(isValidDelivered(JSON.parse(JSON.stringify(message)))).toBe(true);
      const deliver = deliverMessage(r);
      expect(isValidDeliver(structuredClone(deliver))).toBe(true);
    }
  });

  it('refuses a tag spelled like the error text, with the usual wording', () => {
    const bogus = { type: 'one of: initVat, deliver' };
    expect(() => parseKernelToVat(bogus)).toThrow(
      'invalid message from kernel at type: At path: type -- Expected the literal `"one of: initVat, deliver"`, but received: "one of: initVat, deliver"',
    );
    expect(() =>
      parseKernelToVat({
        type: 'deliver',
        crank: 1,
        delivery: {
          kind: 'one of: message, notify, dropExports, retireExports, retireImports, bringOutYourDead, startVat, stopVat, settle',
        },
      }),
    ).toThrow(
      /^invalid message from kernel at delivery\.kind: At path: delivery\.kind -- Expected the literal `"one of: message, /,
    );
    expect(() => parseVatToKernel({ type: 'reboot' })).toThrow(
      'invalid message from vat at type: At path: type -- Expected the literal `"one of: vatReady, vatInitFailed, delivered, deliveryFailed, vatLog, settleRequest"`, but received: "reboot"',
    );
  });

  it('checks an initVat whole: its vatstore by hand, everything else by the schema', () => {
    const init = {
      type: 'initVat',
      protocolVersion: 1,
      vatId: 'v1',
      incarnation: 0,
      bundle: {
        moduleFormat: 'endoZipBase64',
        endoZipBase64: 'UEsFBg==',
        endoZipBase64Sha512: 'ab',
      },
      globals: [],
      state: Array.from({ length: 1000 }, (_, i) => [`k${i}`, `${i}`]),
    };
    expect(parseKernelToVat(init)).toBe(init);
    // A bad pair leaves the hand-written check to the schema, which names it.
    const badPair = { ...init, state: [...init.state, ['k', 7]] };
    expect(() => parseKernelToVat(badPair)).toThrow(
      /^invalid message from kernel at state: /u,
    );
    // Good pairs do not excuse the rest of the message.
    expect(() => parseKernelToVat({ ...init, incarnation: -1 })).toThrow(
      /^invalid message from kernel at incarnation: /u,
    );
    expect(() => parseKernelToVat({ ...init, extra: true })).toThrow(
      /^invalid message from kernel at extra: /u,
    );
    // What the kernel sends: the pairs as one JSON text, read back by the supervisor.
    const asJson = { ...init, state: JSON.stringify(init.state) };
    expect(parseKernelToVat(asJson)).toBe(asJson);
    expect(initVatPairs(asJson.state)).toEqual(init.state);
    expect(() => initVatPairs('[["k", 1]]')).toThrow(
      'invalid initVat state: not an array of [string, string]',
    );
    expect(() => initVatPairs('[["k"')).toThrow(/^invalid initVat state: not JSON/u);
  });
});
