/**
 * The vat's copy of its vatstore. Liveslots reads and writes it synchronously during a
 * crank; the kernel gets back only the net change (the crank delta).
 *
 * Keys are ordered by JavaScript string comparison (UTF-16 code units), because that is
 * the order liveslots itself assumes when it walks a range with `vatstoreGetNextKey` and
 * stops at `key < end`.
 */
import type { CrankDelta } from '../kernel/protocol/index.ts';

/**
 * Chunks split above this size. Small enough that a splice inside a chunk is a short
 * memmove, large enough that the chunk list stays a few hundred entries at 100k keys.
 */
const MAX_CHUNK = 512;
/** A chunk this small merges into a neighbour when the pair fits in one chunk. */
const MIN_CHUNK = MAX_CHUNK / 4;

/** Index of the first element of `sorted` that is greater than `key`. */
export function upperBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element of `sorted` that is not less than `key`. */
function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The keys in order, as a list of sorted chunks (a "blocked sorted array"). Insert and
 * delete cost O(log n + MAX_CHUNK); nothing is ever re-sorted after construction.
 * Invariant: no chunk is empty unless it is the only one.
 */
export class OrderedKeys {
  #chunks: string[][];

  constructor(sortedUniqueKeys: string[]) {
    const chunks: string[][] = [];
    // Fill chunks half-full so early inserts do not split immediately.
    const step = MAX_CHUNK / 2;
    for (let i = 0; i < sortedUniqueKeys.length; i += step) {
      chunks.push(sortedUniqueKeys.slice(i, i + step));
    }
    if (chunks.length === 0) chunks.push([]);
    this.#chunks = chunks;
  }

  /** The chunk that holds `key` or would hold it: the last whose first key ≤ key. */
  #chunkFor(key: string): number {
    const chunks = this.#chunks;
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (((chunks[mid] as string[])[0] as string) <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : lo - 1;
  }

  /** Adds a key known to be absent. */
  insert(key: string): void {
    const ci = this.#chunkFor(key);
    const chunk = this.#chunks[ci] as string[];
    chunk.splice(lowerBound(chunk, key), 0, key);
    if (chunk.length > MAX_CHUNK) {
      this.#chunks.splice(ci + 1, 0, chunk.splice(chunk.length >>> 1));
    }
  }

  /** Removes a key known to be present. */
  remove(key: string): void {
    const chunks = this.#chunks;
    const ci = this.#chunkFor(key);
    const chunk = chunks[ci] as string[];
    chunk.splice(lowerBound(chunk, key), 1);
    if (chunk.length >= MIN_CHUNK || chunks.length === 1) return;
    if (chunk.length === 0) {
      chunks.splice(ci, 1);
      return;
    }
    // Merging keeps the chunk count proportional to the key count after mass deletes.
    const next = chunks[ci + 1];
    if (next !== undefined && chunk.length + next.length <= MAX_CHUNK) {
      for (const k of next) chunk.push(k);
      chunks.splice(ci + 1, 1);
      return;
    }
    const prev = chunks[ci - 1];
    if (prev !== undefined && chunk.length + prev.length <= MAX_CHUNK) {
      for (const k of chunk) prev.push(k);
      chunks.splice(ci, 1);
    }
  }

  /** The smallest key strictly greater than `key`, whether or not `key` is present. */
  after(key: string): string | undefined {
    const chunks = this.#chunks;
    const ci = this.#chunkFor(key);
    const chunk = chunks[ci] as string[];
    const i = upperBound(chunk, key);
    if (i < chunk.length) return chunk[i];
    return chunks[ci + 1]?.[0];
  }

  /** For tests: the chunk sizes, to check the structure stays balanced. */
  chunkSizes(): number[] {
    return this.#chunks.map((c) => c.length);
  }
}

/** What liveslots' vatstore syscalls are served by, whole (below) or paged (./vatstore-pages.ts). */
export interface Vatstore {
  get(key: string): string | undefined;
  /** The smallest key strictly greater than `priorKey` (which need not exist). */
  getNextKey(priorKey: string): string | undefined;
  set(key: string, value: string): void;
  delete(key: string): void;
  /** The net change since the previous call, sorted by key; starts a new record. */
  takeDelta(): CrankDelta;
}

/** Refuses what liveslots' syscall interface does not allow. */
export function checkEntry(key: unknown, value: unknown): void {
  if (typeof key !== 'string' || typeof value !== 'string') {
    throw TypeError(`vatstore keys and values must be strings (key ${String(key)})`);
  }
}

/**
 * A vatstore in memory with a synchronous API and net-change tracking. Values are
 * strings, as in liveslots' syscall interface; a missing key reads as `undefined`.
 */
export class VatstoreCache implements Vatstore {
  readonly #values: Map<string, string>;
  readonly #keys: OrderedKeys;
  /** Value each key had when the current crank first touched it (undefined = absent). */
  #original = new Map<string, string | undefined>();

  constructor(state: Iterable<readonly [string, string]> = []) {
    const values = new Map<string, string>();
    for (const [key, value] of state) values.set(key, value);
    const keys = [...values.keys()];
    // The kernel usually sends the state already ordered, so check before sorting.
    let sorted = true;
    for (let i = 1; i < keys.length; i++) {
      if ((keys[i - 1] as string) >= (keys[i] as string)) {
        sorted = false;
        break;
      }
    }
    if (!sorted) keys.sort();
    this.#values = values;
    this.#keys = new OrderedKeys(keys);
  }

  get size(): number {
    return this.#values.size;
  }

  get(key: string): string | undefined {
    return this.#values.get(key);
  }

  has(key: string): boolean {
    return this.#values.has(key);
  }

  /** The smallest key strictly greater than `priorKey` (which need not exist). */
  getNextKey(priorKey: string): string | undefined {
    return this.#keys.after(priorKey);
  }

  set(key: string, value: string): void {
    checkEntry(key, value);
    const values = this.#values;
    const old = values.get(key);
    if (!this.#original.has(key)) this.#original.set(key, old);
    if (old === undefined) this.#keys.insert(key);
    values.set(key, value);
  }

  delete(key: string): void {
    const values = this.#values;
    const old = values.get(key);
    if (old === undefined) return;
    if (!this.#original.has(key)) this.#original.set(key, old);
    this.#keys.remove(key);
    values.delete(key);
  }

  /**
   * The net change since the previous call, sorted by key, and starts a new record.
   * A key that ends where it began appears in neither list.
   */
  takeDelta(): CrankDelta {
    const original = this.#original;
    if (original.size === 0) return { sets: [], deletes: [] };
    this.#original = new Map();
    const touched = [...original.keys()].sort();
    const values = this.#values;
    const sets: [string, string][] = [];
    const deletes: string[] = [];
    for (const key of touched) {
      const now = values.get(key);
      if (now === original.get(key)) continue;
      if (now === undefined) deletes.push(key);
      else sets.push([key, now]);
    }
    return { sets, deletes };
  }

  /** For tests and diagnostics: the chunk sizes of the ordered index. */
  indexShape(): number[] {
    return this.#keys.chunkSizes();
  }
}
