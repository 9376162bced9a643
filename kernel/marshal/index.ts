/**
 * Marshalling inside the kernel, where values stay in the domain of krefs: `kser` turns a
 * value (with `kslot` stand-ins for kernel objects and promises) into capdata, `kunser`
 * the reverse. The kernel uses it for values it makes itself (bootstrap arguments, errors
 * for rejected promises, vat parameters) and to show results to callers outside.
 */
import { kser, kslot, kunser, krefOf } from '@agoric/kmarshal';
import { passStyleOf } from '@endo/pass-style';
import type { CapData } from '../protocol/index.ts';

export { kser, kslot, kunser, krefOf };

/** Capdata for a rejection with an Error carrying `message`. */
export function kerror(message: string): CapData {
  return kser(Error(message));
}

/** The kref a capdata denotes when it is exactly one object reference, else undefined. */
export function singleObjectKref(data: CapData): string | undefined {
  if (data.slots.length !== 1 || !data.slots[0]?.startsWith('ko')) return undefined;
  // Smallcaps encodes a lone remotable as "$0" optionally followed by ".iface".
  if (data.body === '#"$0"' || data.body.startsWith('#"$0.')) return data.slots[0];
  return undefined;
}

/**
 * Converts capdata to plain JSON for people and tools outside the kernel: kernel objects
 * become `{ "$kref": "ko3", "iface": "Counter" }`, promises `{ "$kref": "kp4" }`,
 * bigints strings like "12n", undefined null, errors `{ "$error": message, "name": … }`.
 */
export function capdataToJson(data: CapData): unknown {
  return toJson(kunser(data));
}

function toJson(value: unknown): unknown {
  switch (passStyleOf(value)) {
    case 'undefined':
      return null;
    case 'bigint':
      return `${String(value)}n`;
    case 'symbol':
      return String(value);
    case 'remotable': {
      const iface = (value as { iface: () => string }).iface();
      return { $kref: krefOf(value), iface };
    }
    case 'promise':
      return { $kref: krefOf(value) };
    case 'error': {
      const error = value as Error;
      return { $error: error.message, name: error.name };
    }
    case 'copyArray':
      return (value as unknown[]).map(toJson);
    case 'copyRecord':
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toJson(v)]),
      );
    case 'tagged': {
      const tagged = value as { [Symbol.toStringTag]: string; payload: unknown };
      return { $tag: tagged[Symbol.toStringTag], payload: toJson(tagged.payload) };
    }
    default:
      return value;
  }
}

/**
 * The reverse of capdataToJson for arguments from outside: plain JSON, where
 * `{ "$kref": "ko3" }` stands for a kernel object or promise. The input is not modified.
 */
export function jsonToCapdata(value: unknown): CapData {
  return kser(fromJson(value, '$'));
}

function fromJson(value: unknown, path: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => fromJson(v, `${path}[${i}]`));
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    if (typeof record.$kref === 'string') {
      if (!/^k[op]\d+$/u.test(record.$kref)) {
        throw new TypeError(
          `${path}.$kref: ${JSON.stringify(record.$kref)} is not a kref`,
        );
      }
      return kslot(
        record.$kref,
        typeof record.iface === 'string' ? record.iface : undefined,
      );
    }
    return Object.fromEntries(
      Object.entries(record).map(([k, v]) => [k, fromJson(v, `${path}.${k}`)]),
    );
  }
  if (typeof value === 'function' || typeof value === 'symbol') {
    throw new TypeError(`${path}: a ${typeof value} cannot be passed`);
  }
  return value;
}

/**
 * The value of a smallcaps body that is plain JSON data, or undefined if it is anything
 * else (or not smallcaps). Plain means: no string, value or property name, starts with
 * one of smallcaps' special characters (`!` to `-`), so there is nothing to revive and
 * `kunser` would give back the same data. The kernel checks every body a vat sends, and
 * most are plain (`["ping",[0]]`); building and hardening them through marshal cost
 * about a sixth of a small crank. Whatever this declines goes to `kunser` as before.
 */
export function plainBody(body: string): { value: unknown } | undefined {
  if (body.charCodeAt(0) !== HASH) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body.slice(1));
  } catch {
    return undefined; // kunser names the error
  }
  // Iterative: a deeply nested body must not overflow this stack.
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') {
      if (isSpecial(next)) return undefined;
    } else if (Array.isArray(next)) {
      for (const element of next) pending.push(element);
    } else if (typeof next === 'object' && next !== null) {
      for (const [name, element] of Object.entries(next)) {
        if (isSpecial(name) || name === '__proto__') return undefined;
        pending.push(element);
      }
    }
  }
  return { value };
}

const HASH = 0x23;
const BANG = 0x21;
const DASH = 0x2d;

function isSpecial(text: string): boolean {
  const code = text.charCodeAt(0);
  return code >= BANG && code <= DASH;
}
