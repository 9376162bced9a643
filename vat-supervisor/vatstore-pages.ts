/**
 * A paged vatstore: the vat starts with nothing of its store in memory and reads a key
 * from the kernel, synchronously, the first time it needs it (the host blocks the vat's
 * thread for the answer: node/vat-worker/page-channel.ts). What it read stays as a page
 * table for later cranks, since only this vat writes its store; its own writes wait in
 * the crank, and the kernel gets the net change as with a whole vatstore.
 *
 * Order: liveslots walks ranges in JavaScript's string order (UTF-16 code units), the
 * kernel's store in SQLite's (UTF-8 bytes, i.e. code points). The two differ only between
 * a character of U+E000–U+FFFF and one above U+FFFF, so the kernel pages a vatstore only
 * when no stored key holds a character of U+E000–U+FFFF, and the moment this vat writes
 * such a key (or one too long to ask for) it loads the whole store and goes on as a
 * whole vatstore (./vatstore-cache.ts). A prior key with such a character is answered
 * without asking the kernel to compare it (`next` with `leavePrefix`).
 */
import {
  ORDER_SENSITIVE_KEY as ORDER_SENSITIVE,
  initVatPairs,
  type CrankDelta,
  type VatstorePages,
} from '../kernel/protocol/index.ts';
import {
  OrderedKeys,
  VatstoreCache,
  checkEntry,
  upperBound,
  type Vatstore,
} from './vatstore-cache.ts';

/** A key set without being read first: its committed value is not known. */
const UNREAD = Symbol('unread');
/** Past this many keys in the page table, it is dropped after a crank (it refills). */
const DEFAULT_MAX_KNOWN = 100_000;
/** A read-ahead run longer than this starts afresh rather than growing. */
const MAX_RUN = 4096;

export interface PagedVatstoreOptions {
  /** Keys kept between cranks before the page table is dropped. Default 100k. */
  maxKnown?: number;
  /** Longest key the host can ask for; a longer one loads the whole store. */
  maxKeyLength?: number;
}

export class PagedVatstore implements Vatstore {
  readonly #pages: VatstorePages;
  readonly #maxKnown: number;
  readonly #maxKeyLength: number;
  /** What this vat knows of its store: committed values read, and this crank's writes (null: absent). */
  #known = new Map<string, string | null>();
  /** For each key this crank touched, its committed value (null: absent). */
  #original = new Map<string, string | null | typeof UNREAD>();
  /** The keys this crank touched, in order: where its view may differ from the kernel's. */
  #touched = new OrderedKeys([]);
  /** Committed keys read ahead in this crank: all of them after `after` up to the last. */
  #run: { after: string; keys: string[]; end: boolean } | undefined;
  /** Set once the store had to be loaded whole; it serves everything from then on. */
  #whole: VatstoreCache | undefined;
  /** Round trips to the kernel, for tests and benches. */
  reads = 0;

  constructor(pages: VatstorePages, options: PagedVatstoreOptions = {}) {
    this.#pages = pages;
    this.#maxKnown = options.maxKnown ?? DEFAULT_MAX_KNOWN;
    this.#maxKeyLength = options.maxKeyLength ?? Infinity;
  }

  /** Whether the store was loaded whole (a key the kernel orders differently was written). */
  get whole(): boolean {
    return this.#whole !== undefined;
  }

  get(key: string): string | undefined {
    if (this.#whole) return this.#whole.get(key);
    const known = this.#known.get(key);
    if (known !== undefined) return known ?? undefined;
    if (key.length > this.#maxKeyLength) return this.#loadWhole().get(key);
    const value = this.#read(key);
    this.#known.set(key, value ?? null);
    return value;
  }

  getNextKey(priorKey: string): string | undefined {
    if (this.#whole) return this.#whole.getNextKey(priorKey);
    if (priorKey.length > this.#maxKeyLength)
      return this.#loadWhole().getNextKey(priorKey);
    const original = this.#original;
    const known = this.#known;
    let committed = this.#committedAfter(priorKey);
    while (
      committed !== undefined &&
      original.has(committed) &&
      known.get(committed) === null
    ) {
      committed = this.#committedAfter(committed);
    }
    let local = this.#touched.after(priorKey);
    while (local !== undefined && known.get(local) === null)
      local = this.#touched.after(local);
    if (committed === undefined) return local;
    if (local === undefined) return committed;
    return local < committed ? local : committed;
  }

  set(key: string, value: string): void {
    checkEntry(key, value);
    if (this.#whole) return this.#whole.set(key, value);
    if (ORDER_SENSITIVE.test(key) || key.length > this.#maxKeyLength) {
      return this.#loadWhole().set(key, value);
    }
    this.#touch(key, UNREAD);
    this.#known.set(key, value);
  }

  delete(key: string): void {
    if (this.#whole) return this.#whole.delete(key);
    if (key.length > this.#maxKeyLength) return this.#loadWhole().delete(key);
    this.#touch(key, undefined);
    this.#known.set(key, null);
  }

  takeDelta(): CrankDelta {
    if (this.#whole) return this.#whole.takeDelta();
    const original = this.#original;
    this.#original = new Map();
    this.#touched = new OrderedKeys([]);
    // The kernel's store changes by this delta: what was read ahead no longer holds.
    this.#run = undefined;
    const sets: [string, string][] = [];
    const deletes: string[] = [];
    if (original.size > 0) {
      const known = this.#known;
      for (const key of [...original.keys()].sort()) {
        const now = known.get(key) ?? null;
        let before = original.get(key) as string | null | typeof UNREAD;
        // Set unread and then deleted: only the kernel knows whether that changed anything.
        if (before === UNREAD && now === null) before = this.#read(key) ?? null;
        if (now === before) continue;
        if (now === null) deletes.push(key);
        else sets.push([key, now]);
      }
    }
    if (this.#known.size > this.#maxKnown) this.#known = new Map();
    return { sets, deletes };
  }

  /** Notes a key's committed value on the crank's first touch; `undefined` reads it now. */
  #touch(key: string, ifUnknown: typeof UNREAD | undefined): void {
    if (this.#original.has(key)) return;
    const known = this.#known.get(key);
    let before: string | null | typeof UNREAD;
    if (known !== undefined) before = known;
    else if (ifUnknown === UNREAD) before = UNREAD;
    else before = this.#read(key) ?? null;
    this.#original.set(key, before);
    this.#touched.insert(key);
  }

  #read(key: string): string | undefined {
    this.reads += 1;
    return this.#pages.get(key);
  }

  /** The first committed key after `prior`, from the read-ahead run or the kernel. */
  #committedAfter(prior: string): string | undefined {
    const run = this.#run;
    if (run !== undefined && prior >= run.after) {
      const i = upperBound(run.keys, prior);
      if (i < run.keys.length) return run.keys[i];
      if (run.end) return undefined;
    }
    // A prior key with a character SQLite orders otherwise: every stored key that starts
    // with what precedes that character sorts before it in JavaScript, so the answer is
    // the first key past that prefix (no stored key holds such a character).
    const sensitive = prior.search(ORDER_SENSITIVE);
    const from = sensitive < 0 ? prior : prior.slice(0, sensitive);
    this.reads += 1;
    const { entries, end } = this.#pages.next(from, sensitive >= 0);
    const original = this.#original;
    const keys: string[] = [];
    for (const [key, value] of entries) {
      keys.push(key);
      // This crank's own writes win over what the kernel holds.
      if (!original.has(key)) this.#known.set(key, value);
    }
    const last = run?.keys[run.keys.length - 1];
    if (
      sensitive < 0 &&
      run !== undefined &&
      last === prior &&
      run.keys.length < MAX_RUN
    ) {
      for (const key of keys) run.keys.push(key);
      run.end = end;
    } else if (sensitive < 0) {
      this.#run = { after: prior, keys, end };
    }
    return keys[0];
  }

  /** Loads the committed store whole and replays this crank's writes onto it. */
  #loadWhole(): VatstoreCache {
    this.reads += 1;
    const whole = new VatstoreCache(initVatPairs(this.#pages.all()));
    for (const key of this.#original.keys()) {
      const now = this.#known.get(key) ?? null;
      if (now === null) whole.delete(key);
      else whole.set(key, now);
    }
    this.#whole = whole;
    this.#known = new Map();
    this.#original = new Map();
    this.#touched = new OrderedKeys([]);
    this.#run = undefined;
    return whole;
  }
}
